"""Token embedding plus a learned or sinusoidal position encoding."""

import math

import keras
from keras import ops

from apptk.layers.initializers import clone_initializer
from apptk.layers.position_embedding import PositionEmbedding
from apptk.layers.positional_encoding import PositionalEncoding

POSITION_ENCODINGS = ("learned", "sinusoidal")


@keras.saving.register_keras_serializable(package="apptk")
class TokenAndPositionEmbedding(keras.layers.Layer):
    """Token embedding plus a learned or sinusoidal position encoding.

    Looks up each token id in a `keras.layers.Embedding` (`token_embedding`), optionally scales
    the vectors by `sqrt(embedding_dim)` as in Vaswani et al. (2017), and adds the position
    encoding of each step (`position_embedding`): a learned `PositionEmbedding` or the fixed
    `PositionalEncoding`. With `mask_zero=True` token id 0 is padding and the layer emits the mask
    `token_ids != 0`, which Keras passes on to mask-aware layers downstream (attention, RNNs,
    pooling). `logits(hidden_states)` projects hidden states back onto the vocabulary with the
    transposed token embedding, so a decoder can tie its output projection to its input
    embedding (Press and Wolf, 2017).

    Args:
        vocabulary_size: int. The number of token ids.
        max_length: int. The longest sequence the position encoding accepts.
        embedding_dim: int. The size of the token and position vectors.
        mask_zero: bool. Whether token id 0 is padding to be masked.
        position_encoding: `"learned"` or `"sinusoidal"`.
        scale_embeddings: bool. Whether to multiply token vectors by `sqrt(embedding_dim)`
            before adding positions.
        embeddings_initializer: str or `keras.initializers.Initializer`. Initializer of the
            token embedding and, when `position_encoding="learned"`, of the position embedding;
            each gets its own clone (see `clone_initializer`).
        token_embedding_dtype: optional dtype in which to store the token table, e.g.
            `"float16"` to halve the size of a large vocabulary's weights in saved models;
            vectors are cast to the layer's compute dtype when they are read.
        **kwargs: other keyword arguments passed to `keras.layers.Layer`, such as `name` and
            `dtype`.

    Call arguments:
        token_ids: an integer tensor of shape `(batch, sequence_length)`.
        start_index: int or scalar integer tensor. The position of the first token, e.g. the
            current step when decoding one token at a time. Defaults to 0.

    Example:

    ```python
    embedding = TokenAndPositionEmbedding(
        vocabulary_size=100, max_length=32, embedding_dim=16, position_encoding="sinusoidal"
    )
    token_ids = np.array([[5, 9, 2, 0, 0]])
    vectors = embedding(token_ids)  # (1, 5, 16); mask [[True, True, True, False, False]]
    logits = embedding.logits(vectors)  # (1, 5, 100)
    ```

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
        - [Press and Wolf, 2017](https://arxiv.org/abs/1608.05859)
    """

    def __init__(
        self,
        vocabulary_size: int,
        max_length: int,
        embedding_dim: int,
        mask_zero: bool = True,
        position_encoding: str = "learned",
        scale_embeddings: bool = False,
        embeddings_initializer="uniform",
        token_embedding_dtype: str | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if position_encoding not in POSITION_ENCODINGS:
            raise ValueError(
                f"position_encoding must be one of {POSITION_ENCODINGS}; got {position_encoding!r}."
            )
        self.vocabulary_size = vocabulary_size
        self.max_length = max_length
        self.embedding_dim = embedding_dim
        self.mask_zero = mask_zero
        self.position_encoding = position_encoding
        self.scale_embeddings = scale_embeddings
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.token_embedding_dtype = token_embedding_dtype
        self.token_embedding = keras.layers.Embedding(
            vocabulary_size,
            embedding_dim,
            embeddings_initializer=clone_initializer(
                self.embeddings_initializer, "token_embedding"
            ),
            mask_zero=mask_zero,
            dtype=token_embedding_dtype or self.dtype_policy,
            name="token_embedding",
        )
        if position_encoding == "learned":
            self.position_embedding = PositionEmbedding(
                max_length,
                initializer=clone_initializer(self.embeddings_initializer, "position_embedding"),
                dtype=self.dtype_policy,
                name="position_embedding",
            )
        else:
            self.position_embedding = PositionalEncoding(
                max_length, add_to_inputs=False, dtype=self.dtype_policy, name="position_embedding"
            )

    def build(self, input_shape):
        self.token_embedding.build(input_shape)
        self.position_embedding.build((*input_shape, self.embedding_dim))

    def call(self, token_ids, start_index=0):
        vectors = ops.cast(self.token_embedding(token_ids), self.compute_dtype)  # (b, t, dim)
        if self.scale_embeddings:
            vectors = vectors * ops.cast(math.sqrt(self.embedding_dim), vectors.dtype)
        return vectors + self.position_embedding(vectors, start_index=start_index)

    def compute_mask(self, token_ids, mask=None):
        if not self.mask_zero:
            return None
        return ops.not_equal(token_ids, 0)

    def logits(self, hidden_states):
        """Projects hidden states onto the vocabulary with the transposed token embedding.

        Computes `hidden_states @ token_embedding.embeddings^T` in the dtype of `hidden_states`
        (cast them to float32 first for float32 logits under mixed precision). Call it from
        another layer's or model's `call`, where the embedding weights are read at run time.

        Args:
            hidden_states: a float tensor of shape `(..., embedding_dim)`.

        Returns:
            A tensor of shape `(..., vocabulary_size)`.
        """
        embeddings = ops.cast(self.token_embedding.embeddings, hidden_states.dtype)
        return ops.matmul(hidden_states, ops.transpose(embeddings))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "max_length": self.max_length,
                "embedding_dim": self.embedding_dim,
                "mask_zero": self.mask_zero,
                "position_encoding": self.position_encoding,
                "scale_embeddings": self.scale_embeddings,
                "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
                "token_embedding_dtype": self.token_embedding_dtype,
            }
        )
        return config

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.embedding_dim)
