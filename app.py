"""Start the web chat on the bundled corpus: `python app.py` (see README)."""

from assistant.cli import cli

if __name__ == "__main__":
    cli(["serve"], prog_name="assistant")
