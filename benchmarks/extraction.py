"""Body token F1 of kstance's extraction against the hand-made ground truth of
../shared/corpus/article-extraction-benchmark (181 real pages), and pages per second."""
from __future__ import annotations

import gzip
import json
import re
import sys
import time
from collections import Counter

from benchmarks.common import SHARED, peak_rss_mb, report
from extractors.text import extract_article

_TOKEN = re.compile(r"\w+", re.UNICODE)


def token_f1(pred: str, truth: str) -> tuple[float, float, float]:
    p, t = Counter(_TOKEN.findall(pred.lower())), Counter(_TOKEN.findall(truth.lower()))
    if not p and not t:
        return 1.0, 1.0, 1.0
    common = sum((p & t).values())
    precision = common / max(1, sum(p.values()))
    recall = common / max(1, sum(t.values()))
    f1 = 2 * precision * recall / (precision + recall) if common else 0.0
    return precision, recall, f1


def main() -> None:
    base = SHARED / "corpus" / "article-extraction-benchmark"
    if not base.exists():
        sys.exit(f"extraction benchmark needs {base}")
    truth = json.loads((base / "ground-truth.json").read_text())
    pages = {k: gzip.decompress((base / "html" / f"{k}.html.gz").read_bytes()) for k in truth}
    scores, elapsed = [], 0.0
    for key, item in truth.items():
        t = time.perf_counter()
        art = extract_article(pages[key], item["url"])
        elapsed += time.perf_counter() - t
        scores.append(token_f1(art.text, item["articleBody"]))
    n = len(scores)
    precision = sum(s[0] for s in scores) / n
    recall = sum(s[1] for s in scores) / n
    f1 = sum(s[2] for s in scores) / n
    report("extraction", [("pages", str(n)), ("precision", f"{precision:.4f}"), ("recall", f"{recall:.4f}"),
                          ("F1 (mean over pages)", f"{f1:.4f}"), ("pages/s (one core)", f"{n / elapsed:.1f}"),
                          ("peak RSS MB", f"{peak_rss_mb():.0f}")],
           {"pages": n, "f1": round(f1, 4), "precision": round(precision, 4), "recall": round(recall, 4),
            "pages_per_s": round(n / elapsed, 1)})


if __name__ == "__main__":
    main()
