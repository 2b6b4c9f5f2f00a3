from web.views._placeholder import placeholder

dashboard = placeholder("Dashboard")
