"""Helpers behind :mod:`qualkit.topics` (theme discovery), one small module per job.

``prepare`` turns segments into the sentences or windows that are clustered; ``words`` holds the spoken
stop list, the lemmatising tokenizer and c-TF-IDF labels; ``fit`` chooses defaults by corpus size and runs
BERTopic (or the scikit-learn fallback); ``describe`` builds themes with quotes, prevalence and nearest
codes; ``edit`` merges, splits, renames and discards; ``runs`` saves and loads runs in the project store;
``synthetic`` generates corpora with planted themes for tests and benchmarks. Import the public API from
:mod:`qualkit.topics`.

Example:
    >>> from qualkit.themes.words import spoken_tokens
    >>> spoken_tokens("Um, you know, the nurses were exhausted, like, yeah.")
    ['nurse', 'exhaust']
"""
