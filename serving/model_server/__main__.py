"""``python -m serving.model_server --rest_api_port=8501 --model_base_path=...``."""

from serving.model_server.flags import run

if __name__ == "__main__":
    run()
