"""The class's own digits and the teacher's board.

    digits.py    drawings learners label and add, kept in their workspaces; the class's set; the MNIST-layout npz
    scores.py    how well a model reads those digits, each digit predicted once per model file
    teacher.py   the teacher's key (``CNN_EXPLORER_TEACHER_KEY``), compared in constant time
    sharing.py   a learner's model copied into the class's ``shared/`` folder
    board.py     the board's tables: learners, leaderboard, shared models, digits by label
    words.py     the sentences these pages show, built from the data
"""
