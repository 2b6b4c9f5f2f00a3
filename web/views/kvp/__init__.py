"""The KVP board's pages (web:kvp-board, web:kvp-item), its moves (web:kvp-move) and proposals
(web:kvp-propose)."""

from .views import kvp_board, kvp_item, kvp_move, kvp_propose

__all__ = ["kvp_board", "kvp_item", "kvp_move", "kvp_propose"]
