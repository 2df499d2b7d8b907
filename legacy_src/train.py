# train the cancellation model and save it to model/model.pkl
import os
import pickle

from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from config import *
from utils import add_features, clean_data, load_data

df = load_data()
df = clean_data(df)
df = add_features(df)
df = df[df["is_canceled"].isin([0, 1])]

X = df[FEATURES_NUM + FEATURES_CAT]
y = df["is_canceled"].astype(int)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=TEST_SIZE, random_state=SEED, stratify=y)

numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
categorical = OneHotEncoder(handle_unknown="ignore", min_frequency=20, sparse_output=False)
model = Pipeline([
    ("prep", ColumnTransformer([("num", numeric, FEATURES_NUM), ("cat", categorical, FEATURES_CAT)])),
    ("clf", LogisticRegression(C=1.0, max_iter=2000)),
])
model.fit(X_train, y_train)

proba = model.predict_proba(X_test)[:, 1]
print("test AUC: %.4f" % roc_auc_score(y_test, proba))
print("test accuracy: %.4f" % accuracy_score(y_test, proba >= 0.5))

os.makedirs(os.path.dirname(MODEL_PATH), exist_ok=True)
with open(MODEL_PATH, "wb") as f:
    pickle.dump(model, f)
print("saved model to", MODEL_PATH)
