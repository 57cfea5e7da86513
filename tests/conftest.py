"""Shared fixtures. Every test runs offline on the real samples committed in tests/data (see PROVENANCE.md)."""
import signal
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory) -> Path:
    """A tiny BERT (2 layers, hidden 32) with a WordPiece vocabulary learnt from the ANT sample: a real
    transformers encoder that trains in seconds."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    from training.corpus import read_corpus

    texts = read_corpus(DATA / "ant")["text"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(texts, trainers.WordPieceTrainer(
        vocab_size=2000, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", tok.token_to_id("[CLS]")),
                                                 ("[SEP]", tok.token_to_id("[SEP]"))])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")
    config = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128)
    path = tmp_path_factory.mktemp("tiny-bert")
    torch.manual_seed(0)  # the same tiny base in every session, whichever test asks for it first
    BertModel(config).save_pretrained(path)
    fast.save_pretrained(path)
    return path


def tiny_config(base, out, **overrides):
    """Training settings for a few seconds' run on the ANT sample."""
    from training.config import TrainConfig

    settings = dict(data=str(DATA / "ant"), base=str(base), max_length=64, epochs=2, batch_size=8,
                    learning_rate=1e-3, dev_size=0.2, test_size=0.2, output_dir=str(out), seed=0,
                    fusion=False)  # the transformer alone: a test of the blend asks for it
    return TrainConfig(**{**settings, **overrides})


@pytest.fixture(scope="session")
def trained(tiny_base, tmp_path_factory) -> Path:
    """A tiny BERT topic model trained on the ANT sample (single-label, 6 sections)."""
    from training.train import train

    return train(tiny_config(tiny_base, tmp_path_factory.mktemp("run") / "model"))


RECIPE_MAP = "training/recipes/psd-topics.yaml"


@pytest.fixture(scope="session")
def half_annotated(tmp_path_factory):
    """The 40 annotated sample articles, with the annotations of only the first 20 given to training."""
    import json

    records = [json.loads(line) for line in (DATA / "psd-labels.jsonl").read_text().splitlines()]
    path = tmp_path_factory.mktemp("ann") / "labels.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records[:20]))
    return path, records


@pytest.fixture(scope="session")
def partial_model(tiny_base, half_annotated, tmp_path_factory):
    """A tiny multi-label model over politics/security/diplomacy and the topics, trained on partial labels."""
    from training.train import train

    path, _ = half_annotated
    out = tmp_path_factory.mktemp("partial") / "model"
    return train(tiny_config(tiny_base, out, data=str(DATA / "psd.jsonl"), text_column="text", title_column="title",
                             label_column="section", id_column="id", label_map=RECIPE_MAP, annotations=str(path),
                             freeze_layers=1, dev_size=0.25, test_size=0.25))


def default_sigint() -> None:
    """preexec_fn for a child that must react to Ctrl-C as in a terminal. A shell without job control (`nohup
    ... &`, some CI runners) starts its background jobs with SIGINT ignored and children inherit that; Python
    then never raises KeyboardInterrupt, and torchrun never passes the signal on."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


# What transformers prints for a model whose weights it had to make up: a user reads it as a broken model.
LOAD_REPORT = ("LOAD REPORT", "MISSING", "newly initialized", "Consider training", "Loading weights")


def stderr_of_python(code: str) -> str:
    """stderr of a fresh interpreter running `code`, as a user's script would print it (in-process capture
    misses transformers' log handler, which keeps the stderr it found at import)."""
    import os
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, env=os.environ)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stderr
