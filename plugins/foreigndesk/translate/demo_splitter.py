"""The demo packages' hand-written MiniSBD sentence splitter (see :mod:`foreigndesk.translate.demo_models`).

Bundled in every demo package so Argos's ``MiniSBDSentencizer`` never downloads
one: a sentence ends at ``.``, ``!`` or ``?`` followed by a space, and at the end
of the text.
"""

from __future__ import annotations

import json

SBD_VOCAB = ["<PAD>", "<UNK>", ".", "!", "?", " "]



def minisbd_onnx(lang_code: str) -> bytes:
    """A MiniSBD-format model: label 2 (sentence end) on ``. ! ?`` followed by a space.

    MiniSBD feeds ``units`` (int64 [batch, chars], ids from the embedded vocab)
    and ``features`` (float32 [batch, chars, n]; unused here) and takes the
    argmax over the last axis of the first output: 0 = inside a token, 1 = token
    end, 2 = sentence end. It forces a sentence end on the last character itself.
    """
    import onnx
    from onnx import TensorProto, helper

    def const(name: str, values: list[int]) -> onnx.NodeProto:
        return helper.make_node(
            "Constant", [], [name], value=helper.make_tensor(name, TensorProto.INT64, [len(values)], values)
        )

    def scalar(name: str, value: int) -> onnx.NodeProto:
        return helper.make_node("Constant", [], [name], value=helper.make_tensor(name, TensorProto.INT64, [], [value]))

    space = SBD_VOCAB.index(" ")
    nodes = [
        scalar("first_punct_minus_1", SBD_VOCAB.index(".") - 1),
        scalar("last_punct_plus_1", SBD_VOCAB.index("?") + 1),
        scalar("space_id", space),
        scalar("label_sentence_end", 2),
        const("one", [1]),
        const("big", [2**62]),
        const("pad_right", [0, 0, 0, 1]),
        const("depth", [3]),
        helper.make_node("Constant", [], ["onehot_values"], value=helper.make_tensor("v", TensorProto.FLOAT, [2], [0.0, 1.0])),
        helper.make_node("Greater", ["units", "first_punct_minus_1"], ["after_first"]),
        helper.make_node("Less", ["units", "last_punct_plus_1"], ["before_last"]),
        helper.make_node("And", ["after_first", "before_last"], ["is_punct"]),
        helper.make_node("Slice", ["units", "one", "big", "one"], ["tail"]),
        helper.make_node("Pad", ["tail", "pad_right"], ["next_unit"], mode="constant"),
        helper.make_node("Equal", ["next_unit", "space_id"], ["next_is_space"]),
        helper.make_node("And", ["is_punct", "next_is_space"], ["ends_sentence"]),
        helper.make_node("Cast", ["ends_sentence"], ["ends_int"], to=TensorProto.INT64),
        helper.make_node("Mul", ["ends_int", "label_sentence_end"], ["labels"]),
        helper.make_node("OneHot", ["labels", "depth", "onehot_values"], ["logits"], axis=-1),
    ]
    graph = helper.make_graph(
        nodes,
        "foreigndesk_demo_sbd",
        inputs=[
            helper.make_tensor_value_info("units", TensorProto.INT64, ["batch", "chars"]),
            helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", "chars", "features"]),
        ],
        outputs=[helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "chars", 3])],
    )
    model = helper.make_model(
        graph, producer_name="foreigndesk.demo_models", opset_imports=[helper.make_opsetid("", 17)]
    )
    model.ir_version = 8  # readable by any onnxruntime >= 1.10
    vocab = {
        "lang": lang_code,
        "idx": 0,
        "cutoff": 0,
        "lower": False,
        "_unit2id": {unit: i for i, unit in enumerate(SBD_VOCAB)},
        "_id2unit": SBD_VOCAB,
    }
    config = {"max_seqlen": 1000, "batch_size": 32, "feat_funcs": [], "use_dictionary": False, "num_dict_feat": 0}
    helper.set_model_props(
        model,
        {
            "lang_code": lang_code,
            "config": json.dumps(config, sort_keys=True),
            "vocab": json.dumps(vocab, ensure_ascii=False, sort_keys=True),
            "lexicon": "null",
        },
    )
    onnx.checker.check_model(model)
    return model.SerializeToString()
