from web.views._placeholder import placeholder

inbox = placeholder("Inbox")
