"""The tables the study scripts beside this file write into README.md, between ``<!-- NAME:start/end -->`` markers."""

from pathlib import Path

README = Path(__file__).parent.parent.parent / "README.md"


def write_table(marker: str, lines: list[str]) -> None:
    """Replace the README's text between the ``marker`` start and end comments by ``lines``."""
    text = README.read_text()
    start_mark, end_mark = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    start, end = text.index(start_mark) + len(start_mark), text.index(end_mark)
    README.write_text(text[:start] + "\n" + "\n".join(lines) + "\n" + text[end:])
