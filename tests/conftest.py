import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import torch  # noqa: E402

# Tests are small; one intra-op thread avoids oversubscribing shared CI cores.
torch.set_num_threads(1)
