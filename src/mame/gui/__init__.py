"""GUI: mammogram generation and lesion drawing (Gradio) over the pipeline's models."""
