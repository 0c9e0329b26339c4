import sys

from hunter_console.sandbox.cli import main

sys.exit(main())
