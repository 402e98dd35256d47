import sys

from pipeline_lib.cli import main

sys.exit(main())
