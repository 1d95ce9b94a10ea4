"""Giving each weight and sub-layer its own copy of an initializer."""

import hashlib

import keras


def clone_initializer(initializer, name: str):
    """Returns a copy of `initializer` for the weight or sub-layer called `name`.

    A Keras 3 random initializer holds a fixed seed, the integer it was given or, when unseeded,
    one drawn as it was made, so every call of one initializer object returns the same values:
    weights of one shape built from it start identical (an attention layer's query, key and value
    kernels, say). Layers therefore hand each weight and sub-layer its own clone:

    - an initializer seeded with an integer gets a seed derived from that seed and `name`, so
      clones with different names draw different values and a seeded model stays reproducible;
    - an unseeded initializer stays unseeded, and its clone draws a fresh seed (reproducible under
      `keras.utils.set_random_seed`);
    - one seeded with a `keras.random.SeedGenerator` already draws new values at each call and is
      returned as is, as are plain callables;
    - initializers without a seed (`"zeros"`, `Constant`) are copied unchanged.

    A layer keeps and serializes the initializer it was given; the clones are never part of its
    config. A sub-layer that clones again (a block's attention cloning per projection) gets seeds
    derived in turn from its own clone's, so no two weights of a model share one.

    Args:
        initializer: anything `keras.initializers.get` accepts: a name, a config dict, a
            `keras.initializers.Initializer` or a callable.
        name: the name of the weight or sub-layer the clone initializes; distinct within the
            layer that clones.

    Returns:
        A new `keras.initializers.Initializer`, or `initializer` itself in the cases above.

    Example:

    >>> kernel_initializer = keras.initializers.RandomNormal(seed=1)
    >>> query = clone_initializer(kernel_initializer, "query_kernel")((4, 4))
    >>> key = clone_initializer(kernel_initializer, "key_kernel")((4, 4))
    >>> again = clone_initializer(kernel_initializer, "query_kernel")((4, 4))
    >>> bool(np.any(query != key)), bool(np.all(query == again))
    (True, True)
    """
    initializer = keras.initializers.get(initializer)
    if not isinstance(initializer, keras.initializers.Initializer):
        return initializer
    config = initializer.get_config()
    seed = config.get("seed")
    if isinstance(seed, dict):  # a serialized SeedGenerator
        return initializer
    if isinstance(seed, int):
        config["seed"] = _derived_seed(seed, name)
    return initializer.__class__.from_config(config)


def _derived_seed(seed: int, name: str) -> int:
    # A hash rather than `seed + i`, so seeds derived twice over (block, then its attention)
    # do not collide with seeds derived once.
    digest = hashlib.sha256(f"{seed}/{name}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 2**31
