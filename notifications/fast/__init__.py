"""Speed code of the send path. Each module replaces one plain Django way of doing a thing,
says in its docstring what, why and by how much (with the benchmark that shows it), and has
a test comparing its output with the plain way's."""
