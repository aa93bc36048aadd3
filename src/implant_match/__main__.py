"""Allow ``python -m implant_match``."""

from implant_match.cli import main

if __name__ == "__main__":
    main()
