"""The Model panel in rooms: controllers own the model, its predictions and the jobs (all their state
on the GUI thread); panels show what the controllers hold and turn clicks into calls."""
