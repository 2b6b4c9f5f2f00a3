"""The KVP board's pages (web:kvp-board, web:kvp-item) and its moves (web:kvp-move)."""

from .views import kvp_board, kvp_item, kvp_move

__all__ = ["kvp_board", "kvp_item", "kvp_move"]
