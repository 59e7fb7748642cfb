"""smc-gateway: a gRPC and REST gateway in front of Alibaba Cloud SMC, with an SMC emulator."""

__version__ = "0.1.0"
