"""Settings for `bench/run.py --variant`: parsalink.settings plus the changes proposed in README
"Performance", each switched on by an EXP_* variable. Bench only."""

import os

from parsalink.settings import *  # noqa: F403
from parsalink.settings import CACHES, DATABASES, LOGGING, REST_FRAMEWORK

E = os.environ.get
if E("EXP_REDIS_CLIENT") and "redis" in CACHES["default"]["BACKEND"].lower():
    CACHES["default"]["BACKEND"] = "exp_cache.RedisCache"
if E("EXP_SERVER_BINDING"):
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
if E("EXP_NO_HEALTH"):
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
if E("EXP_POOL"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": 2}
if E("EXP_THROTTLE"):
    REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = ["exp_throttle.ApiKeyCounterThrottle"]
if E("EXP_LOG_WARNING"):
    LOGGING["root"]["level"] = "WARNING"
