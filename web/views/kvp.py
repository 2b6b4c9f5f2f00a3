from web.views._placeholder import placeholder

kvp_board = placeholder("KVP board")
kvp_item = placeholder("Improvement")
