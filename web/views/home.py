from web.views._placeholder import placeholder

home = placeholder("My work")
search = placeholder("Search")
