from web.views._placeholder import placeholder

gate_queue = placeholder("Gate queue")
gate_decide = placeholder("Decide")
