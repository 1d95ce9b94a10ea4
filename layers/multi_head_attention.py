"""Multi-head scaled dot-product attention with padding/causal masks and a key/value cache."""

import math

import keras
from keras import ops

from apptk.layers.initializers import clone_initializer


def _large_negative(dtype) -> float:
    # float16 overflows at -1e9; its most negative finite value is about -65504.
    return -3e4 if dtype == "float16" else -1e9


def _write_positions(cache, updates, start):
    """Writes `updates` (batch, new, heads, dim) into `cache` (batch, length, heads, dim) at
    positions `start...start + new - 1`.

    A scatter along the sequence axis rather than `ops.slice_update`, which lowers to an XLA
    op on TensorFlow that TF Serving's CPU kernels lack.
    """
    positions = start + ops.arange(ops.shape(updates)[1])
    written = ops.scatter_update(
        ops.moveaxis(cache, 1, 0), ops.expand_dims(positions, -1), ops.moveaxis(updates, 1, 0)
    )
    return ops.moveaxis(written, 0, 1)


@keras.saving.register_keras_serializable(package="apptk")
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head attention written from its Q/K/V projections.

    Projects the query, key and value into `num_heads` heads, computes
    `softmax(Q K^T / sqrt(key_dim)) V` per head and projects the concatenated heads back
    (Vaswani et al., 2017). The weights have the same shapes and order as
    `keras.layers.MultiHeadAttention`, so weights can be copied between the two.

    Masks are combined with a logical AND: the Keras padding masks of the query and value
    (propagated automatically, e.g. from an `Embedding(mask_zero=True)`), an explicit
    `attention_mask` and, with `use_causal_mask=True`, a lower-triangular mask. Positions
    whose every key is masked get all-zero attention weights.

    For one-step-at-a-time decoding, pass a `cache` of shape
    `(batch, 2, max_length, num_heads, key_dim)` holding keys (index 0) and values (index 1):
    with `cache_update_index`, the new keys/values of `value` are written at that position
    and attention reads the whole cache (positions not yet written are masked out); without
    it, the cache is read as is (cross-attention to a pre-computed encoder output, see
    `compute_cache`).

    Args:
        num_heads: number of attention heads.
        key_dim: size of each head for query and key.
        value_dim: size of each head for value; defaults to `key_dim`.
        dropout: dropout rate on the attention weights.
        use_bias: whether the projections have biases.
        output_dim: size of the output; defaults to the query's last dimension.
        kernel_initializer: initializer for the projection kernels; each kernel gets its own
            clone (see `clone_initializer`), so the query, key and value kernels never start
            equal.
        bias_initializer: initializer for the projection biases, cloned alike.
        seed: seed for the attention dropout.
        **kwargs: standard layer arguments (`name`, `dtype`, ...).

    Call arguments:
        query: `(batch, target_length, query_dim)`.
        value: `(batch, source_length, value_dim_in)`; may be None when reading a `cache`
            without `cache_update_index`.
        key: optional `(batch, source_length, key_dim_in)`; defaults to `value`.
        query_mask: optional boolean `(batch, target_length)` padding mask (automatic with
            Keras masking).
        value_mask: optional boolean `(batch, source_length)` padding mask (automatic).
        key_mask: optional boolean `(batch, source_length)` padding mask (automatic).
        attention_mask: optional boolean `(batch, target_length, source_length)`; True attends.
        use_causal_mask: whether position `t` may only attend to positions `<= t`.
        return_attention_scores: whether to also return the attention weights
            `(batch, num_heads, target_length, source_length)`.
        cache: optional key/value cache, see above.
        cache_update_index: optional int or scalar tensor, position of `query[:, 0]`.
        training: whether dropout is active.

    Returns:
        `output`, then the attention weights if `return_attention_scores`, then the updated
        cache if `cache` was given: a tensor alone, else a tuple in that order.

    Example:

    >>> attention = apptk.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    >>> x = np.random.rand(3, 5, 8).astype("float32")
    >>> attention(x, x, use_causal_mask=True).shape
    (3, 5, 8)

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
    """

    def __init__(
        self,
        num_heads: int,
        key_dim: int,
        value_dim: int | None = None,
        dropout: float = 0.0,
        use_bias: bool = True,
        output_dim: int | None = None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim if value_dim else key_dim
        self.dropout = dropout
        self.use_bias = use_bias
        self.output_dim = output_dim
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.seed = seed
        self.dropout_layer = keras.layers.Dropout(dropout, seed=seed, dtype=self.dtype_policy)

    def _projection(self, name: str, input_dim: int, head_dim: int):
        kernel = self.add_weight(
            name=f"{name}_kernel",
            shape=(input_dim, self.num_heads, head_dim),
            initializer=clone_initializer(self.kernel_initializer, f"{name}_kernel"),
        )
        bias = None
        if self.use_bias:
            bias = self.add_weight(
                name=f"{name}_bias",
                shape=(self.num_heads, head_dim),
                initializer=clone_initializer(self.bias_initializer, f"{name}_bias"),
            )
        return kernel, bias

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        query_dim = query_shape[-1]
        self.query_kernel, self.query_bias = self._projection("query", query_dim, self.key_dim)
        self.key_kernel, self.key_bias = self._projection("key", key_shape[-1], self.key_dim)
        self.value_kernel, self.value_bias = self._projection(
            "value", value_shape[-1], self.value_dim
        )
        output_dim = self.output_dim or query_dim
        self.output_kernel = self.add_weight(
            name="output_kernel",
            shape=(self.num_heads, self.value_dim, output_dim),
            initializer=clone_initializer(self.kernel_initializer, "output_kernel"),
        )
        self.output_bias = None
        if self.use_bias:
            self.output_bias = self.add_weight(
                name="output_bias",
                shape=(output_dim,),
                initializer=clone_initializer(self.bias_initializer, "output_bias"),
            )
        self.built = True

    def _project(self, inputs, kernel, bias):
        heads = ops.einsum("bsd,dnh->bsnh", inputs, kernel)  # (batch, seq, heads, head_dim)
        return heads if bias is None else heads + bias

    def compute_cache(self, value, key=None):
        """Projects `key`/`value` once into a cache for repeated cross-attention.

        Args:
            value: `(batch, source_length, value_dim_in)`.
            key: optional; defaults to `value`.

        Returns:
            A `(batch, 2, source_length, num_heads, key_dim)` tensor to pass as `cache`
            (without `cache_update_index`).
        """
        self._check_cacheable()
        key = value if key is None else key
        keys = self._project(key, self.key_kernel, self.key_bias)
        values = self._project(value, self.value_kernel, self.value_bias)
        return ops.stack([keys, values], axis=1)

    def _check_cacheable(self):
        if self.value_dim != self.key_dim:
            raise ValueError(
                f"A key/value cache needs value_dim == key_dim, got {self.value_dim} and "
                f"{self.key_dim}."
            )

    def _attention_mask(
        self,
        query_length,
        key_length,
        query_mask,
        value_mask,
        key_mask,
        attention_mask,
        use_causal_mask,
        first_query_position,
        last_valid_key,
    ):
        """Combines every mask source into one boolean `(batch or 1, T, S)` mask or None."""
        masks = []
        if query_mask is not None:
            masks.append(ops.expand_dims(ops.cast(query_mask, "bool"), -1))
        for padding in (value_mask, key_mask):
            if padding is not None:
                masks.append(ops.expand_dims(ops.cast(padding, "bool"), 1))
        if attention_mask is not None:
            masks.append(ops.cast(attention_mask, "bool"))
        key_positions = ops.arange(key_length)[None, None, :]
        query_positions = first_query_position + ops.arange(query_length)[None, :, None]
        if use_causal_mask:
            masks.append(key_positions <= query_positions)
        if last_valid_key is not None:
            masks.append(key_positions <= last_valid_key)
        if not masks:
            return None
        combined = masks[0]
        for mask in masks[1:]:
            combined = ops.logical_and(combined, mask)
        return combined

    def _masked_softmax(self, scores, mask):
        scores = ops.cast(scores, "float32")  # softmax in float32 for mixed precision
        if mask is None:
            return ops.cast(ops.softmax(scores, axis=-1), self.compute_dtype)
        mask = ops.expand_dims(mask, 1)  # broadcast over heads
        scores = ops.where(mask, scores, _large_negative("float32"))
        weights = ops.where(mask, ops.softmax(scores, axis=-1), 0.0)
        return ops.cast(weights, self.compute_dtype)

    def call(
        self,
        query,
        value=None,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        use_causal_mask: bool = False,
        return_attention_scores: bool = False,
        cache=None,
        cache_update_index=None,
        training=None,
    ):
        key = value if key is None else key
        queries = self._project(query, self.query_kernel, self.query_bias)
        first_query_position = 0
        last_valid_key = None
        if cache is not None:
            self._check_cacheable()
            if cache_update_index is None:
                keys, values = cache[:, 0], cache[:, 1]
            else:
                new_keys = self._project(key, self.key_kernel, self.key_bias)
                new_values = self._project(value, self.value_kernel, self.value_bias)
                keys = _write_positions(cache[:, 0], new_keys, cache_update_index)
                values = _write_positions(cache[:, 1], new_values, cache_update_index)
                cache = ops.stack([keys, values], axis=1)
                first_query_position = cache_update_index
                last_valid_key = cache_update_index + ops.shape(query)[1] - 1
                # Padding masks of the new tokens do not cover the cache; the positional
                # limit above hides what has not been written yet.
                value_mask = key_mask = None
        else:
            keys = self._project(key, self.key_kernel, self.key_bias)
            values = self._project(value, self.value_kernel, self.value_bias)

        mask = self._attention_mask(
            ops.shape(queries)[1],
            ops.shape(keys)[1],
            query_mask,
            value_mask,
            key_mask,
            attention_mask,
            use_causal_mask,
            first_query_position,
            last_valid_key,
        )
        queries = queries * ops.cast(1.0 / math.sqrt(self.key_dim), queries.dtype)
        scores = ops.einsum("btnh,bsnh->bnts", queries, keys)
        weights = self._masked_softmax(scores, mask)
        context = ops.einsum(
            "bnts,bsnh->btnh", self.dropout_layer(weights, training=training), values
        )
        output = ops.einsum("btnh,nhd->btd", context, self.output_kernel)
        if self.output_bias is not None:
            output = output + self.output_bias

        results = [output]
        if return_attention_scores:
            results.append(weights)
        if cache is not None:
            results.append(cache)
        return results[0] if len(results) == 1 else tuple(results)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "key_dim": self.key_dim,
                "value_dim": self.value_dim,
                "dropout": self.dropout,
                "use_bias": self.use_bias,
                "output_dim": self.output_dim,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "seed": self.seed,
            }
        )
        return config
