"""Step 1 of the split pipeline: cleaning and features (script mode on the scikit-learn image).

The /opt/ml/processing contract: read every file under --input-dir (the job's input,
/opt/ml/processing/input/data), write what the predict step needs to --output-dir
(/opt/ml/processing/output). Move the legacy program's cleaning here, unchanged.
"""

import argparse
import shutil
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-dir", type=Path, default=Path("/opt/ml/processing/input/data"))
    parser.add_argument("--output-dir", type=Path, default=Path("/opt/ml/processing/output"))
    args = parser.parse_args()
    args.output_dir.mkdir(parents=True, exist_ok=True)
    for source in sorted(p for p in args.input_dir.rglob("*") if p.is_file()):
        # TODO: the legacy program's reading and cleaning, then write the features.
        shutil.copyfile(source, args.output_dir / source.name)


if __name__ == "__main__":
    main()
