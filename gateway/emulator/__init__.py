"""A local emulator of Alibaba Cloud Server Migration Center (SMC), API 2019-06-01.

It serves SMC's RPC wire protocol (signed with SignatureVersion 1.0) for the 9 operations of the
2019 reference, keeps one isolated state per AccessKey pair, and has a control API under
``/_emulator/`` for tests.  See ``README.md`` beside this file.

Layout: ``params``/``parsing`` (wire → typed requests), ``backend`` (state and rules),
``statemachine`` (transitions as data), ``responses`` (typed → SMC JSON), ``auth`` (signature,
timestamp, nonce, STS), ``errors`` (one class per code), ``faults``, ``control``, ``seed``,
``server`` (aiohttp app and lifecycle), ``cli``.
"""

from gateway.emulator.accounts import Account
from gateway.emulator.clock import Clock
from gateway.emulator.server import BackgroundEmulator, Emulator, EmulatorConfig

__all__ = ["Account", "BackgroundEmulator", "Clock", "Emulator", "EmulatorConfig"]
