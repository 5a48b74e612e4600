"""`python -m lossctl` runs the command line."""

from lossctl.cli import main

if __name__ == "__main__":
    main()
