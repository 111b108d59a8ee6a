import sys

from boneabm.cli import main

sys.exit(main())
