"""Training the tutorial's network, one module per question:

    config        what to train: Hyperparameters (each defined once), the presets, TrainConfig
    digits        the data split, the batches fit reads, the training digits redrawn as pen strokes
    recorder      each batch's own cost from Keras's running means, batch and epoch events, Stop
    trainer       how: the Keras fit on the best device, the evaluation, the saved model
    ready         a network traced ahead of time by a trainer kept ready
    progress      what the page knows: Progress folded from the trainer's events (series in history.History)
    diagnosis     the smoothed cost and the tutorial recipe's failure signs
    sentences     the words the page and the CLI show about all of that, in the learner's language
    widgets       the Train page's hyperparameter widgets as data, read from config's fields
    protocol      the pipe between server and trainer: JSON events out, ``stop`` in
    launcher      trainer processes, one kept ready (the only module that starts them)
    training_run  one run: its trainer, the thread that follows it, Stop in every phase
    runs          the server's registry of every learner's runs and its queue
    cluster       with CNN_EXPLORER_RAY_ADDRESS: trainer actors on a Ray cluster, one kept ready (imports Ray)
    remote_run    one run's actor seen as a trainer process: the config out, events and the saved model home
    worker        the trainer actor itself, on a Ray worker (no Ray, no TensorFlow until it trains)
    cli           ``python -m cnnlib.train``
"""
