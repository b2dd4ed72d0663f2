"""View ▸ Show activations on cards: a thumbnail of each layer's output under
its card, from the Activations tab's snapshot; none for Input/Output; off clears."""
import dataclasses
from pathlib import Path


from studio.data.load import load_dataset
from studio.ui.run.card_previews import SETTING
from studio.ui.shell.document import settings

ARTIFACTS = Path(__file__).resolve().parents[2] / "_artifacts"


def previews(window) -> dict:
    return {nid: item.preview() for nid, item in window.canvas.scene().nodes.items()}


def test_cards_show_activations_when_the_action_is_on(window, qtbot):
    panel = window.run_panel
    action = panel.card_previews.action
    assert action in window.menu_view.actions() and not action.isChecked()
    # the untrained network on a small previewed dataset: no training needed
    panel.preview_dataset = load_dataset(dataclasses.replace(window.project.data, samples=64))
    assert panel.activations.refresh_now()
    assert all(img is None for img in previews(window).values())  # off by default

    action.setChecked(True)
    assert settings().value(SETTING, type=bool) is True
    shown = previews(window)
    kinds = {nid: window.project.model.type_of(nid).lower() for nid in shown}
    layers = [nid for nid, k in kinds.items() if k in ("conv2d", "linear")]
    assert any(kinds[n] == "conv2d" for n in layers) and any(kinds[n] == "linear" for n in layers)
    for nid in layers:
        assert shown[nid] is not None and not shown[nid].isNull(), nid
    ends = [nid for nid, k in kinds.items() if k in ("input", "output")]
    assert ends and all(shown[nid] is None for nid in ends)
    # the thumbnail sits below the card and is repainted with it; hits stay on the card
    item = window.canvas.scene().nodes[layers[0]]
    assert item.boundingRect().bottom() > item.card_rect().bottom() + 20
    assert item.shape().boundingRect() == item.card_rect()

    window.canvas.fit()
    qtbot.wait(50)
    ARTIFACTS.mkdir(exist_ok=True)
    window.grab().save(str(ARTIFACTS / "card_previews.png"))

    # a new snapshot (Refresh) redraws; off clears every card
    first = shown[layers[0]]
    assert panel.activations.refresh_now()
    assert previews(window)[layers[0]] is not first
    action.setChecked(False)
    assert all(img is None for img in previews(window).values())
    assert settings().value(SETTING, type=bool) is False


def test_cards_inside_a_block_show_their_own_layers_outputs(window):
    """Probes name a block's layers by module path (blk.relu), so a card inside a block
    shows its own layer's output, even where its id is also a top-level layer's."""
    from studio.graph import blocks
    panel = window.run_panel
    m = window.project.model
    first = next(n for n in m.nodes() if m.type_of(n) in ("Conv2d", "Linear"))
    (nxt,) = [e.dst for e in m.out_edges(first)]
    blocks.group(m, [nxt], nid="blk")  # one layer after it, as a block
    body = m.body("blk")  # inside, after that layer, a ReLU with an id the top level also has
    (last,) = body.in_edges("output")
    body.disconnect(last.id)
    body.add_node("ReLU", pos=(0, 200), nid=first)
    body.connect(last.src, last.src_port, first, "in")
    body.connect(first, "out", "output", "in")
    panel.preview_dataset = load_dataset(dataclasses.replace(window.project.data, samples=64))
    panel.card_previews.action.setChecked(True)
    assert panel.activations.refresh_now()
    outside = previews(window)
    assert outside[first] is not None and outside["blk"] is not None
    window.canvas.open_block("blk")
    inside = previews(window)
    assert inside[nxt] is not None and inside[first] is not None
    assert inside[first] != outside[first]  # the inner ReLU's, not the top conv's
    assert inside["input"] is None and inside["output"] is None
    window.canvas.go_up()
    assert previews(window)[first] is not None and previews(window)["blk"] is not None
    panel.card_previews.action.setChecked(False)
