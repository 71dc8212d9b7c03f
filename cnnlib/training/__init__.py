"""Training the tutorial's network, one module per question:

    config     what to train: Hyperparameters (each defined once), the presets, TrainConfig
    trainer    how: the data split, the Keras fit with its progress callback, the evaluation, the saved model
    progress   what the page knows: Progress folded from the trainer's events, the smoothed cost, the diagnosis
    sentences  the words the page and the CLI show about all of that, in the learner's language
    widgets    the Train page's hyperparameter widgets as data, read from config's fields
    runs       where: each run in a child process followed by a thread, the queue (the only module with either)
    cli        ``python -m cnnlib.train``
"""
