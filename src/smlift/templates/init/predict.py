"""Step 2 of the split pipeline: the model, in the custom image (containers/inference/).

The /opt/ml/processing contract: read the features under --input-dir
(/opt/ml/processing/input/data), write the predictions to --output-dir
(/opt/ml/processing/output). The model is baked into the image next to this file, in
/opt/program (never /opt/ml: SageMaker reserves it).
"""

import argparse
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-dir", type=Path, default=Path("/opt/ml/processing/input/data"))
    parser.add_argument("--output-dir", type=Path, default=Path("/opt/ml/processing/output"))
    parser.add_argument("--model", type=Path, default=HERE / "model.pkl")
    args = parser.parse_args()
    args.output_dir.mkdir(parents=True, exist_ok=True)
    for source in sorted(p for p in args.input_dir.rglob("*") if p.is_file()):
        # TODO: load args.model as the legacy program does, predict, write the predictions.
        shutil.copyfile(source, args.output_dir / source.name)


if __name__ == "__main__":
    main()
