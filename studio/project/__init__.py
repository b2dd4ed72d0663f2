"""The project: the Project model (model.py: graph, data and training settings,
name and description, with typed events in events.py) and its file (file.py)."""
