# Settings for the hotel booking cancellation model.
# Change things here, then run:  python make_data.py ; python train.py ; python predict.py
# (run from this folder, the paths below are relative to it)

DATA_PATH = "data/bookings.csv"
MODEL_PATH = "model/model.pkl"
OUTPUT_DIR = "output/"
PREDICTIONS_FILE = OUTPUT_DIR + "predictions.csv"
SUMMARY_FILE = OUTPUT_DIR + "segment_summary.csv"

SEED = 42
N_ROWS = 50000          # rows make_data.py writes by default
TEST_SIZE = 0.2

# raw columns
NUMERIC_COLS = [
    "lead_time", "arrival_date_year", "arrival_date_day_of_month",
    "stays_in_weekend_nights", "stays_in_week_nights", "adults", "children", "babies",
    "is_repeated_guest", "previous_cancellations", "adr", "total_of_special_requests",
]
CATEGORICAL_COLS = [
    "hotel", "meal", "market_segment", "distribution_channel", "deposit_type", "customer_type",
]
COUNT_COLS = [
    "stays_in_weekend_nights", "stays_in_week_nights", "adults", "children", "babies",
    "previous_cancellations", "total_of_special_requests",
]

MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}

# what goes into the model
FEATURES_NUM = [
    "lead_time", "arrival_month_num", "arrival_weekday", "stays_in_weekend_nights",
    "stays_in_week_nights", "total_nights", "adults", "children", "babies", "total_guests",
    "is_family", "is_repeated_guest", "previous_cancellations", "adr", "adr_per_person",
    "total_of_special_requests",
]
FEATURES_CAT = [
    "hotel", "meal", "country", "market_segment", "distribution_channel", "deposit_type",
    "customer_type",
]

ADR_MAX = 1000          # the 5400 booking is a typo, cap it
LEAD_TIME_MAX = 800
MIN_YEAR = 2000
MAX_YEAR = 2100

# business rules (revenue management team, 2019)
LOW_RISK = 0.3
HIGH_RISK = 0.6
THRESHOLD = 0.5         # overbook when the cancel probability is at least this

OUTPUT_COLS = [
    "booking_id", "hotel", "country", "market_segment", "distribution_channel", "deposit_type",
    "customer_type", "lead_time", "arrival_date_year", "arrival_month_num",
    "arrival_date_day_of_month", "arrival_weekday", "total_nights", "total_guests", "adr",
    "adr_per_person", "cancel_probability", "risk_band", "high_risk", "revenue_at_risk",
]
