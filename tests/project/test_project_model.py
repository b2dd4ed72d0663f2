"""The Project model: settings and info edits are methods that announce typed
events; graph events reach the project's listeners too; a refused value
changes nothing and announces nothing."""
import pytest

from studio.graph.events import NodeAdded, ParamChanged, ShapesChanged
from studio.project.events import InfoChanged, SettingChanged
from studio.project.file import dumps, loads
from studio.project.model import Project
from studio.settings import SettingsError


def _recorded(project):
    events = []
    project.subscribe(events.append)
    return events


def test_setting_edits_announce_typed_events():
    p = Project()
    events = _recorded(p)
    assert p.set_setting("train", "lr", 0.05) == 0.05
    p.set_setting("data", "dataset", "mnist")
    p.set_setting("train", "epochs", 10)  # unchanged (the default): no event
    assert events == [SettingChanged("train", "lr", 1e-3, 0.05),
                      SettingChanged("data", "dataset", "cifar10", "mnist")]
    assert p.train.lr == 0.05 and p.data.dataset == "mnist"


def test_a_refused_value_changes_nothing_and_names_where():
    p = Project()
    events = _recorded(p)
    with pytest.raises(SettingsError, match="--epochs"):
        p.set_setting("train", "epochs", -1, "--epochs")
    with pytest.raises(SettingsError, match="data.dataset must be one of"):
        p.set_setting("data", "dataset", "imagenet")
    with pytest.raises(KeyError):
        p.set_setting("graph", "lr", 1.0)
    assert events == [] and p.train.epochs == 10 and p.data.dataset == "cifar10"


def test_values_are_stored_as_their_declared_type():
    p = Project()
    events = _recorded(p)
    p.set_setting("train", "lr", 1)  # an int where a float is declared
    assert type(p.train.lr) is float and events == [SettingChanged("train", "lr", 1e-3, 1.0)]


def test_name_and_description_are_edits_too():
    p = Project()
    events = _recorded(p)
    p.set_info("name", "Digits")
    p.set_info("description", "a first try")
    p.set_info("name", "Digits")
    assert events == [InfoChanged("name", "Untitled", "Digits"), InfoChanged("description", "", "a first try")]
    with pytest.raises(KeyError):
        p.set_info("path", "x")


def test_graph_events_reach_project_listeners():
    p = Project()
    events = _recorded(p)
    nid = p.model.add_node("Input")
    p.model.set_param(nid, "channels", 1)
    kinds = [type(e) for e in events if not isinstance(e, ShapesChanged)]
    assert kinds == [NodeAdded, ParamChanged]
    assert ParamChanged(nid, "channels", 1) in events
    p.unsubscribe(events.append)
    n = len(events)
    p.model.add_node("Output")
    assert len(events) == n


def test_a_loaded_project_is_evented_and_round_trips():
    p = Project()
    p.set_setting("train", "batch_size", 64)
    p.set_info("name", "Round trip")
    q = loads(dumps(p))
    assert q.to_dict() == p.to_dict()
    events = _recorded(q)
    q.set_setting("train", "batch_size", 8)
    assert events == [SettingChanged("train", "batch_size", 64, 8)]
