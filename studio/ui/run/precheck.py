"""The pre-run cost check lives in the core (studio.train.precheck) so `studio train`
runs the same check as the app; re-exported here for the run panel."""
from studio.train.precheck import (  # noqa: F401
    BUILTIN_TRAIN_EXAMPLES, Precheck, activation_bytes, available_ram, device_choices, expected_train_examples,
    free_memory, human_bytes, human_count, precheck, resolve_device)
