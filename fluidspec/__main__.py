import sys

from fluidspec._cli import main

sys.exit(main())
