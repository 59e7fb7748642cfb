{{/*
The chart name, or nameOverride.
*/}}
{{- define "smc-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of the release's resources (63 characters at most, the DNS label limit). The
release name is used alone when it already contains the chart name.
*/}}
{{- define "smc-gateway.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "smc-gateway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every resource.
*/}}
{{- define "smc-gateway.labels" -}}
helm.sh/chart: {{ include "smc-gateway.chart" . }}
{{ include "smc-gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Labels that select the release's pods (immutable in a Deployment: never add to them).
*/}}
{{- define "smc-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "smc-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The ServiceAccount the pods run as.
*/}}
{{- define "smc-gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "smc-gateway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The image reference: repository@digest when a digest is given, else repository:tag.
*/}}
{{- define "smc-gateway.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The Secret holding the tenants file and the files it references.
*/}}
{{- define "smc-gateway.tenantsSecretName" -}}
{{- default (include "smc-gateway.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/*
Whether the chart renders its own Secret: the tenants file, a plain Redis URL or a page token
key (given or generated) need it. Returns "true" or "".
*/}}
{{- define "smc-gateway.createSecret" -}}
{{- if or (and .Values.secrets.create (not .Values.secrets.existingSecret)) (and .Values.redis.url (not .Values.redis.existingSecret)) (not .Values.pageTokenKey.existingSecret) }}true{{- end }}
{{- end }}

{{/*
The tenants file rendered from .Values.secrets.tenants; secrets become file paths.
*/}}
{{- define "smc-gateway.tenantsFile" -}}
{{- $tenants := list }}
{{- range .Values.secrets.tenants }}
{{- $t := dict "id" .id "api_key_sha256" .apiKeySha256 "access_key_id" .accessKeyId "access_key_secret_file" (printf "/etc/smc-gateway/secrets/%s" .id) "region_id" .regionId "allowed_methods" (default (list "*") .allowedMethods) }}
{{- if .securityToken }}
{{- $_ := set $t "security_token_file" (printf "/etc/smc-gateway/secrets/%s-sts" .id) }}
{{- end }}
{{- $tenants = append $tenants $t }}
{{- end }}
{{- dict "tenants" $tenants | toYaml }}
{{- end }}

{{/*
terminationGracePeriodSeconds: shutdown delay + drain grace + margin, rounded up.
*/}}
{{- define "smc-gateway.terminationGracePeriodSeconds" -}}
{{- add (ceil .Values.config.shutdownDelaySeconds) (ceil .Values.config.shutdownGraceSeconds) .Values.terminationGraceMarginSeconds }}
{{- end }}

{{/*
OTEL_RESOURCE_ATTRIBUTES: the pod's Kubernetes identity, then otel.resourceAttributes.
$(K8S_POD_NAME) and $(K8S_NODE_NAME) are expanded by the kubelet from earlier env entries.
*/}}
{{- define "smc-gateway.otelResourceAttributes" -}}
{{- $attrs := list (printf "k8s.namespace.name=%s" .Release.Namespace) "k8s.pod.name=$(K8S_POD_NAME)" "k8s.node.name=$(K8S_NODE_NAME)" }}
{{- range $key, $value := .Values.otel.resourceAttributes }}
{{- $attrs = append $attrs (printf "%s=%s" $key $value) }}
{{- end }}
{{- join "," $attrs }}
{{- end }}
