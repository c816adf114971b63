"""`python -m staff`: run the staff service on HANDOFF_HOST:HANDOFF_PORT (default 127.0.0.1:8000);
`python -m staff users …`: staff accounts from the command line (staff/cli.py)."""

from __future__ import annotations

import sys

from handoff.hours import HolidayDataError
from handoff.settings import HandoffSettings, SettingsError
from staff.app import create_app
from studio.settings import StudioSettingsError


def main() -> int:
    """Read the environment, build the app and serve until SIGINT/SIGTERM (or run `users …`)."""
    if sys.argv[1:2] == ["users"]:
        from staff import cli

        return cli.main(sys.argv[2:])
    try:
        settings = HandoffSettings.from_env()
        app = create_app(settings)
    except (SettingsError, StudioSettingsError, HolidayDataError) as problem:
        print(f"staff: {problem}", file=sys.stderr)
        return 2
    app.run(host=settings.host, port=settings.port, workers=1, access_log=True, auto_reload=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
