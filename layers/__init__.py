"""apptk's Keras layers: each serializable, mask-aware and mixed-precision safe."""

from apptk.layers.conv_block import ConvBlock
from apptk.layers.feed_forward import FeedForward
from apptk.layers.gru_cell import GRUCell
from apptk.layers.initializers import clone_initializer
from apptk.layers.lstm_cell import LSTMCell
from apptk.layers.multi_head_attention import MultiHeadAttention
from apptk.layers.position_embedding import PositionEmbedding
from apptk.layers.positional_encoding import PositionalEncoding
from apptk.layers.residual_separable_block import ResidualSeparableBlock
from apptk.layers.simple_rnn_cell import SimpleRNNCell
from apptk.layers.token_and_position_embedding import TokenAndPositionEmbedding
from apptk.layers.transformer_decoder_block import TransformerDecoderBlock
from apptk.layers.transformer_encoder_block import TransformerEncoderBlock

__all__ = [
    "ConvBlock",
    "FeedForward",
    "GRUCell",
    "LSTMCell",
    "MultiHeadAttention",
    "PositionEmbedding",
    "PositionalEncoding",
    "ResidualSeparableBlock",
    "SimpleRNNCell",
    "TokenAndPositionEmbedding",
    "TransformerDecoderBlock",
    "TransformerEncoderBlock",
    "clone_initializer",
]
