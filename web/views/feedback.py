from web.views._placeholder import placeholder

feedback_new = placeholder("New feedback")
