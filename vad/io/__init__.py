"""Reading and writing files: atomic writes, npy streams, score files and the prediction writer."""
