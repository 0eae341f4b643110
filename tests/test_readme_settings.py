"""The README's settings table and the Settings class agree: every setting has a row, every row a setting."""
import re
from pathlib import Path

from flows.settings import Settings

README = Path(__file__).resolve().parent.parent / "README.md"
# read from the environment by the command itself (config, debug) or by the encoder's cache (cache dir), not settings
NOT_FIELDS = {"KSTANCE_CONFIG", "KSTANCE_DEBUG", "KSTANCE_CACHE_DIR"}


def _table_names() -> set[str]:
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| setting | default | what |"):]
    rows = []
    for line in table.splitlines():
        if not line.startswith("|"):
            break
        rows.append(line)
    return {name for row in rows[2:] for name in re.findall(r"`(KSTANCE_[A-Z0-9_]+)`", row.split("|")[1])}


def test_every_setting_has_a_readme_row_and_every_row_a_setting():
    fields = {f"KSTANCE_{name.upper()}" for name in Settings.model_fields}
    rows = _table_names()
    assert not fields - rows, f"settings without a row in README.md's settings table: {sorted(fields - rows)}"
    assert not rows - fields - NOT_FIELDS, f"rows for settings that do not exist: {sorted(rows - fields - NOT_FIELDS)}"
