"""The pre-run cost check lives in the core (studio.train.precheck) so `studio train`
runs the same check as the app; re-exported here for the run panel."""
from studio.train.precheck import (  # noqa: F401
    BUILTIN_TRAIN_EXAMPLES, Precheck, activation_bytes, available_ram, device_choices, expected_train_examples,
    free_memory, human_bytes, human_count, precheck, resolve_device)


def precision_choices() -> list[tuple[str, str]]:
    """(settings value, label) for the training precision; says when this CPU lacks bf16."""
    import torch
    from studio.train.calibrate import cpu_bf16_support
    gpu = torch.cuda.is_available()
    bf16_cpu, _ = cpu_bf16_support()
    bf16 = "bf16 (mixed, faster)" if bf16_cpu or gpu else "bf16 (this CPU lacks bf16: runs fp32 here)"
    if gpu and not bf16_cpu:
        bf16 = "bf16 (mixed; GPU only: this CPU lacks bf16)"
    return [("fp32", "fp32 (full)"), ("bf16", bf16), ("fp16", "fp16 (mixed, CUDA GPUs only)")]
