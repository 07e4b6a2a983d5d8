"""Running on several machines (issue #15): what open-source Rasa lacks for replicas."""
