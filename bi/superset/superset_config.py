"""Superset settings for `make dashboard` (python -m rfm_segments.superset_dashboards).

Everything Superset keeps lives in $SUPERSET_HOME, a folder beside the warehouse: the metadata
database (superset.db, SQLite: Superset's default there), the secret key and the admin password.
"""
import os
from pathlib import Path

SECRET_KEY = (Path(os.environ["SUPERSET_HOME"]) / "secret_key").read_text().strip()
# The pages load nothing from outside this server. Superset's own policy allows Mapbox, map tiles,
# web fonts and a usage pixel (apachesuperset.gateway.scarf.sh, compiled into the pip build's
# menu bar, so only the browser can stop it): the browser refuses them here.
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}
# Every tile draws when the dashboard opens, not when scrolled into view.
FEATURE_FLAGS = {"DASHBOARD_VIRTUALIZATION": False}
