from web.views._placeholder import placeholder

promise_list = placeholder("Promises")
promise_new = placeholder("New promise")
promise_detail = placeholder("Promise")
