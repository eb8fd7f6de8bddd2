/* gen_words.c: word lists and name tables the generator builds rows from (written for
 * pinpipe; shapes and frequencies measured on ../shared/data, see gen.c). */
#include "pp_gen.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- per-category topics (Title Case noun phrases), tags and well-known posters ---- */

static const char *const art_nouns[] = {
    "Watercolor Painting", "Pencil Drawing",  "Abstract Art",
    "Acrylic Painting",    "Canvas Art",      "Sketchbook Ideas",
    "Portrait Drawing",    "Oil Painting",    "Wall Art",
    "Flower Drawings",     "Doodle Art",      "Art Journal",
    "Landscape Painting",  "Charcoal Sketch", "Pour Painting"};
static const char *const art_tags[] = {"Art Drawings Sketches Simple",
                                       "Pencil Art Drawings",
                                       "Realistic Drawings",
                                       "Cool Drawings",
                                       "Drawing Ideas",
                                       "Painting Inspiration",
                                       "Art Inspo",
                                       "Abstract Paintings",
                                       "Canvas Painting Tutorials",
                                       "Painting Techniques",
                                       "Diy Painting",
                                       "Painting & Drawing",
                                       "Watercolor Art",
                                       "Acrylic Painting Flowers",
                                       "Art Paintings",
                                       "Colour Inspiration"};
static const char *const art_posters[] = {"Bored Panda", "Art is Fun", "Hobby Lobby",
                                          "My Modern Met"};
static const char *const art_fc[] = {"2M", "97k", "1M", "5M"};

static const char *const beauty_nouns[] = {
    "Makeup Looks",       "Skin Care Routine",  "Nail Art",       "Hair Color",
    "Eyeshadow Tutorial", "Braided Hairstyles", "Lip Gloss",      "Eyebrow Shaping",
    "Face Masks",         "Short Haircuts",     "Natural Makeup", "Acne Remedies",
    "Glowing Skin",       "Bridal Makeup",      "Summer Nails"};
static const char *const beauty_tags[] = {
    "Beauty Tips",         "Skin Care Tips",  "Makeup Tips",    "Eye Makeup",
    "Natural Hair Styles", "Nail Designs",    "Hair Hacks",     "Beauty Hacks",
    "Diy Skin Care",       "Makeup Tutorial", "Hair Care Tips", "Glowing Skin",
    "Face Care",           "Pretty Nails",    "Hair Styles",    "Skin Tips"};
static const char *const beauty_posters[] = {"Glamour", "Allure", "Sephora", "Cosmopolitan"};
static const char *const beauty_fc[] = {"1M", "2M", "5M", "942k"};

static const char *const christmas_nouns[] = {
    "Christmas Tree",        "Christmas Wreath",  "Christmas Ornaments",     "Christmas Cookies",
    "Christmas Decorations", "Advent Calendar",   "Christmas Table Setting", "Gingerbread House",
    "Christmas Lights",      "Holiday Mantel",    "Christmas Porch",         "Stocking Stuffers",
    "Christmas Gift Ideas",  "Snowflake Garland", "Mason Jar Luminaries"};
static const char *const christmas_tags[] = {"Christmas Decorations",
                                             "Christmas Diy",
                                             "Christmas Crafts",
                                             "Xmas",
                                             "Christmas Lights",
                                             "Christmas Porch Decorations",
                                             "Front Porch Ideas For Christmas",
                                             "Christmas Ornaments",
                                             "Holiday Decor",
                                             "Christmas Tree Decorations",
                                             "Rustic Christmas",
                                             "Christmas Gifts",
                                             "Christmas Home",
                                             "Diy Christmas Ornaments",
                                             "Farmhouse Christmas",
                                             "Winter Decor"};
static const char *const christmas_posters[] = {"Walmart", "Country Living Magazine", "The Spruce",
                                                "Better Homes and Gardens"};
static const char *const christmas_fc[] = {"2M", "1M", "4M", "8M"};

static const char *const diy_nouns[] = {
    "Paper Flowers",      "Mason Jar Crafts", "Macrame Wall Hanging", "Kids Crafts",
    "Upcycled Furniture", "Pallet Projects",  "Felt Crafts",          "Resin Art",
    "Rock Painting",      "Wood Signs",       "Sewing Projects",      "Crochet Patterns",
    "Yarn Crafts",        "Cardboard Crafts", "Summer Crafts"};
static const char *const diy_tags[] = {
    "Diy Crafts",      "Crafts For Kids", "Fun Crafts For Kids", "Summer Crafts For Kids",
    "Toddler Crafts",  "Crafts To Do",    "Diy For Kids",        "Craft Ideas",
    "Easy Diy",        "Diy Home Decor",  "Diy Projects",        "Paper Crafts",
    "Recycled Crafts", "Crafts To Sell",  "Handmade Gifts",      "Diy Gifts"};
static const char *const diy_posters[] = {"Crafty Morning", "Hobby Lobby", "Michaels Stores",
                                          "Of Life & Lisa | Lifestyle Blog"};
static const char *const diy_fc[] = {"1M", "2M", "5M", "124k"};

static const char *const edu_nouns[] = {
    "Classroom Management", "Reading Activities",      "Math Games",
    "Science Experiments",  "Teaching Resources",      "Homeschool Curriculum",
    "Study Tips",           "Phonics Activities",      "Bulletin Boards",
    "Task Boxes",           "Writing Prompts",         "Sight Words",
    "Learning Centers",     "Special Education Ideas", "Anchor Charts"};
static const char *const edu_tags[] = {"Teaching Special Education",
                                       "Teaching Tools",
                                       "Teacher Resources",
                                       "Teaching Ideas",
                                       "Art Education",
                                       "Elementary Education",
                                       "Resource Room Teacher",
                                       "Primary Education",
                                       "Classroom Activities",
                                       "Kindergarten Activities",
                                       "Homeschool",
                                       "Learning Activities",
                                       "Study Tips",
                                       "Math Activities",
                                       "Reading Comprehension",
                                       "Classroom Organization"};
static const char *const edu_posters[] = {"Teachers Pay Teachers", "Especially Education",
                                          "Scholastic", "Education.com"};
static const char *const edu_fc[] = {"1M", "8k", "2M", "942k"};

static const char *const event_nouns[] = {
    "Wedding Decorations", "Party Ideas",        "Birthday Party",     "Baby Shower",
    "Event Planning",      "Balloon Garland",    "Table Centerpieces", "Bridal Shower",
    "Graduation Party",    "Event Planner Tips", "Party Favors",       "Dessert Table",
    "Photo Booth",         "LED Balloons",       "Wedding Checklist"};
static const char *const event_tags[] = {"Event Planning Business",
                                         "Party Planning",
                                         "Wedding Planning",
                                         "Event Decor",
                                         "Party Decorations",
                                         "Birthday Party Themes",
                                         "Wedding Ideas",
                                         "Event Planner",
                                         "Baby Shower Decorations",
                                         "Balloon Decorations",
                                         "Party Themes",
                                         "Wedding Decorations",
                                         "Event Design",
                                         "Party Ideas",
                                         "Wedding Tips",
                                         "Diy Party"};
static const char *const event_posters[] = {"EventPlanning.com", "The Knot", "Party City",
                                            "Brides"};
static const char *const event_fc[] = {"16k", "2M", "1M", "942k"};

static const char *const finance_nouns[] = {
    "Budget Planner",         "Saving Money Tips",      "Side Hustle Ideas",       "Passive Income",
    "Debt Payoff Plan",       "Money Saving Challenge", "Investing for Beginners", "Frugal Living",
    "Stock Market Basics",    "Retirement Planning",    "Credit Score Tips",       "Emergency Fund",
    "Personal Finance Books", "Make Money Online",      "Financial Freedom"};
static const char *const finance_tags[] = {
    "Money Saving Tips", "Budgeting Finances", "Ways To Save Money", "Money Tips",
    "Financial Tips",    "Make Money Online",  "Saving Money",       "Money Management",
    "Budgeting Tips",    "Financial Planning", "Investing Money",    "Frugal Tips",
    "Debt Payoff",       "Earn Money",         "Personal Finance",   "Money Plan"};
static const char *const finance_posters[] = {"Making Sense Of Cents", "The Budget Mom",
                                              "Money Crashers", "Forbes"};
static const char *const finance_fc[] = {"124k", "502k", "39k", "1M"};

static const char *const home_nouns[] = {
    "Living Room Decor", "Bedroom Ideas",        "Farmhouse Kitchen", "Bathroom Makeover",
    "Entryway Decor",    "Gallery Wall",         "Boho Bedroom",      "Small Apartment",
    "Spring Home Tour",  "Rustic Shelves",       "Cozy Reading Nook", "Modern Farmhouse",
    "Dining Room Decor", "Kitchen Organization", "Home Office"};
static const char *const home_tags[] = {
    "Home Decor",           "Living Room Decor", "Farmhouse Decor",   "Bedroom Decor",
    "Diy Home Decor",       "Decor Ideas",       "Room Decor",        "Interior Design",
    "Home Interior Design", "Apartment Decor",   "Cozy Living Rooms", "Modern Farmhouse",
    "Kitchen Decor",        "Boho Decor",        "Wall Decor",        "House Design"};
static const char *const home_posters[] = {"She Gave It A Go", "Better Homes and Gardens",
                                           "Wayfair", "The Spruce"};
static const char *const home_fc[] = {"26k", "4M", "2M", "1M"};

static const char *const mens_nouns[] = {
    "Mens Outfits",  "Casual Style",      "Leather Jacket", "Suit and Tie",   "Streetwear",
    "Men's Watches", "Chelsea Boots",     "Denim Jacket",   "Summer Outfits", "Beard Styles",
    "Cufflink Set",  "Smart Casual Look", "Linen Shirt",    "Chinos",         "Overcoat"};
static const char *const mens_tags[] = {
    "Mens Fashion Casual", "Mens Outfits",         "Men Casual",
    "Stylish Men",         "Mens Style Guide",     "Mens Fashion Suits",
    "Men's Fashion",       "Mens Fashion Summer",  "Streetwear Men",
    "Men Style Tips",      "Mens Clothing Styles", "Gentleman Style",
    "Casual Outfits",      "Fashion Mode",         "Suit Up",
    "Mens Accessories"};
static const char *const mens_posters[] = {"Walmart", "GQ", "Nordstrom", "Amaze Style"};
static const char *const mens_fc[] = {"2M", "5M", "3M", "1k"};

static const char *const quotes_nouns[] = {
    "Life Quotes",         "Love Quotes",           "Motivational Quotes", "Sad Quotes",
    "Relationship Quotes", "Inspirational Sayings", "Friendship Quotes",   "Funny Quotes",
    "Self Love Quotes",    "Positive Affirmations", "Strong Women Quotes", "Quotes About Moving On",
    "Family Quotes",       "Success Quotes",        "Deep Thoughts"};
static const char *const quotes_tags[] = {
    "Life Quotes",  "Me Quotes",           "Wisdom Quotes",        "True Quotes",
    "Words Quotes", "Motivational Quotes", "Inspirational Quotes", "Positive Quotes",
    "Qoutes",       "Relationship Quotes", "Love Quotes",          "Quotes To Live By",
    "Sayings",      "Quotations",          "Deep Quotes",          "Mood Quotes"};
static const char *const quotes_posters[] = {"YourTango", "The Minds Journal", "Our Mindful Life",
                                             "Relationship Rules"};
static const char *const quotes_fc[] = {"942k", "2M", "62k", "12k"};

static const char *const tattoo_nouns[] = {
    "Finger Tattoo Ideas", "Small Tattoos",      "Sleeve Tattoo", "Polynesian Tattoo",
    "Flower Tattoo",       "Minimalist Tattoos", "Back Tattoo",   "Wrist Tattoos",
    "Tattoo Designs",      "Moon Tattoo",        "Dragon Tattoo", "Script Tattoo",
    "Geometric Tattoo",    "Ankle Tattoos",      "Couple Tattoos"};
static const char *const tattoo_tags[] = {
    "Tattoos For Women", "Small Tattoos",    "Tattoo Designs", "Cute Tattoos",
    "Body Art Tattoos",  "Tattoos For Guys", "Sleeve Tattoos", "Finger Tattoos",
    "Tattoo Ideas",      "Tiny Tattoos",     "Flower Tattoos", "Tattoo Quotes",
    "Arm Tattoo",        "Unique Tattoos",   "Tattoo Art",     "Hand Tattoos"};
static const char *const tattoo_posters[] = {"Bored Panda", "TattooBlend", "Tattoo Ideas",
                                             "Amaze Style"};
static const char *const tattoo_fc[] = {"2M", "211k", "159k", "1k"};

static const char *const travel_nouns[] = {
    "Travel Destinations", "Road Trip",       "Packing List",    "Beach Vacation",
    "Europe Itinerary",    "Hidden Gems",     "Travel Tips",     "Backpacking Route",
    "City Guide",          "National Parks",  "Weekend Getaway", "Sunrise Over Paris",
    "Travel Photography",  "Honeymoon Spots", "Island Hopping"};
static const char *const travel_tags[] = {"Travel Destinations",
                                          "Travel Tips",
                                          "Places To Travel",
                                          "Places To Visit",
                                          "Vacation Destinations",
                                          "Travel Guide",
                                          "Europe Travel",
                                          "Travel Usa",
                                          "Beautiful Places",
                                          "Travel Bucket Lists",
                                          "Road Trip",
                                          "Travel Photography",
                                          "Wanderlust",
                                          "Adventure Travel",
                                          "Travel Checklist",
                                          "Holiday Destinations"};
static const char *const travel_posters[] = {"Lonely Planet", "solosophie", "Conde Nast Traveler",
                                             "Travel + Leisure"};
static const char *const travel_fc[] = {"2M", "5k", "1M", "4M"};

static const char *const vehicle_nouns[] = {
    "Classic Cars", "Muscle Cars",   "Motorcycle",    "Camper Van",   "Off Road Truck",
    "Sports Car",   "Vintage Truck", "Jeep Wrangler", "Electric Car", "Van Life Build",
    "Custom Bike",  "Pickup Truck",  "Car Interior",  "Luxury Cars",  "Drift Car"};
static const char *const vehicle_tags[] = {
    "Classic Cars", "Dream Cars",  "Cars Trucks",          "Muscle Cars",
    "Vintage Cars", "Hot Rods",    "Sport Cars",           "Luxury Cars",
    "Car Ins",      "Jeep Life",   "Motorcycle",           "Custom Trucks",
    "Chevy Trucks", "Ford Trucks", "Cars And Motorcycles", "Super Cars"};
static const char *const vehicle_posters[] = {"K&S Engineering", "Motor Trend", "Hemmings",
                                              "Car and Driver"};
static const char *const vehicle_fc[] = {"3k", "1M", "59k", "224k"};

#define CAT(name, w, p)                                                                            \
    {                                                                                              \
        name, w, p##_nouns, N(p##_nouns), p##_tags, N(p##_tags), p##_posters, p##_fc,              \
            N(p##_posters)                                                                         \
    }

/* Weights: per-mille frequencies of the 2019 distinct pins in aicore_sample_pin.jsonl. */
const struct pp_gen_cat pp_gen_cats[] = {
    CAT("christmas", 100, christmas), CAT("art", 87, art),
    CAT("quotes", 83, quotes),        CAT("finance", 79, finance),
    CAT("education", 78, edu),        CAT("mens-fashion", 77, mens),
    CAT("travel", 77, travel),        CAT("diy-and-crafts", 76, diy),
    CAT("tattoos", 73, tattoo),       CAT("event-planning", 72, event),
    CAT("beauty", 67, beauty),        CAT("vehicles", 66, vehicle),
    CAT("home-decor", 65, home),
};
const int pp_gen_ncats = N(pp_gen_cats);

const char *const pp_gen_adjs[] = {
    "Easy",    "Simple",    "Beautiful",       "Cute",   "Cool",     "Amazing",
    "Modern",  "Creative",  "Stunning",        "Unique", "Cozy",     "Minimalist",
    "Vintage", "Aesthetic", "Budget-Friendly", "Classy", "Elegant",  "Stylish",
    "Fun",     "Quick",     "Rustic",          "Bold",   "Gorgeous", "Timeless"};
const int pp_gen_nadjs = N(pp_gen_adjs);

/* Non-ASCII fragments the real titles and descriptions carry: typographic punctuation,
 * Latin accents, Cyrillic, Greek, Turkish, CJK and emoji. */
const char *const pp_gen_intl[] = {" — Décor Inspiration",
                                   " – Café Style",
                                   " • Crème de la Crème",
                                   " ™",
                                   " ®",
                                   " – Naïve Charm",
                                   " | Ideas de Diseño",
                                   " ✨",
                                   " 😍",
                                   " 🍂",
                                   " ❤️",
                                   " 🎄",
                                   " 🔥",
                                   " — Новогодний декор",
                                   " | Идеи для дома",
                                   " — Ταξίδι στην Ελλάδα",
                                   " | Dövme fikirleri",
                                   " – Süße Ideen für Zuhause",
                                   " | Décoration de Noël",
                                   " “Must See”",
                                   " (Résumé Tips)",
                                   " | Piñata Party",
                                   " – Ça Va?",
                                   " | 可爱的纹身",
                                   " | インテリア",
                                   " | 크리스마스 장식"};
const int pp_gen_nintl = N(pp_gen_intl);

/* Faker's country list (en_US), alphabetical, as in the real geo table. */
const char *const pp_gen_countries[] = {"Afghanistan",
                                        "Albania",
                                        "Algeria",
                                        "American Samoa",
                                        "Andorra",
                                        "Angola",
                                        "Anguilla",
                                        "Antarctica (the territory South of 60 deg S)",
                                        "Antigua and Barbuda",
                                        "Argentina",
                                        "Armenia",
                                        "Aruba",
                                        "Australia",
                                        "Austria",
                                        "Azerbaijan",
                                        "Bahamas",
                                        "Bahrain",
                                        "Bangladesh",
                                        "Barbados",
                                        "Belarus",
                                        "Belgium",
                                        "Belize",
                                        "Benin",
                                        "Bermuda",
                                        "Bhutan",
                                        "Bolivia",
                                        "Bosnia and Herzegovina",
                                        "Botswana",
                                        "Bouvet Island (Bouvetoya)",
                                        "Brazil",
                                        "British Indian Ocean Territory (Chagos Archipelago)",
                                        "British Virgin Islands",
                                        "Brunei Darussalam",
                                        "Bulgaria",
                                        "Burkina Faso",
                                        "Burundi",
                                        "Cambodia",
                                        "Cameroon",
                                        "Canada",
                                        "Cape Verde",
                                        "Cayman Islands",
                                        "Central African Republic",
                                        "Chad",
                                        "Chile",
                                        "China",
                                        "Christmas Island",
                                        "Cocos (Keeling) Islands",
                                        "Colombia",
                                        "Comoros",
                                        "Congo",
                                        "Cook Islands",
                                        "Costa Rica",
                                        "Cote d'Ivoire",
                                        "Croatia",
                                        "Cuba",
                                        "Cyprus",
                                        "Czech Republic",
                                        "Denmark",
                                        "Djibouti",
                                        "Dominica",
                                        "Dominican Republic",
                                        "Ecuador",
                                        "Egypt",
                                        "El Salvador",
                                        "Equatorial Guinea",
                                        "Eritrea",
                                        "Estonia",
                                        "Ethiopia",
                                        "Falkland Islands (Malvinas)",
                                        "Faroe Islands",
                                        "Fiji",
                                        "Finland",
                                        "France",
                                        "French Guiana",
                                        "French Polynesia",
                                        "French Southern Territories",
                                        "Gabon",
                                        "Gambia",
                                        "Georgia",
                                        "Germany",
                                        "Ghana",
                                        "Gibraltar",
                                        "Greece",
                                        "Greenland",
                                        "Grenada",
                                        "Guadeloupe",
                                        "Guam",
                                        "Guatemala",
                                        "Guernsey",
                                        "Guinea",
                                        "Guinea-Bissau",
                                        "Guyana",
                                        "Haiti",
                                        "Heard Island and McDonald Islands",
                                        "Holy See (Vatican City State)",
                                        "Honduras",
                                        "Hong Kong",
                                        "Hungary",
                                        "Iceland",
                                        "India",
                                        "Indonesia",
                                        "Iran",
                                        "Iraq",
                                        "Ireland",
                                        "Isle of Man",
                                        "Israel",
                                        "Italy",
                                        "Jamaica",
                                        "Japan",
                                        "Jersey",
                                        "Jordan",
                                        "Kazakhstan",
                                        "Kenya",
                                        "Kiribati",
                                        "Korea",
                                        "Kuwait",
                                        "Kyrgyz Republic",
                                        "Lao People's Democratic Republic",
                                        "Latvia",
                                        "Lebanon",
                                        "Lesotho",
                                        "Liberia",
                                        "Libyan Arab Jamahiriya",
                                        "Liechtenstein",
                                        "Lithuania",
                                        "Luxembourg",
                                        "Macao",
                                        "Macedonia",
                                        "Madagascar",
                                        "Malawi",
                                        "Malaysia",
                                        "Maldives",
                                        "Mali",
                                        "Malta",
                                        "Marshall Islands",
                                        "Martinique",
                                        "Mauritania",
                                        "Mauritius",
                                        "Mayotte",
                                        "Mexico",
                                        "Micronesia",
                                        "Moldova",
                                        "Monaco",
                                        "Mongolia",
                                        "Montenegro",
                                        "Montserrat",
                                        "Morocco",
                                        "Mozambique",
                                        "Myanmar",
                                        "Namibia",
                                        "Nauru",
                                        "Nepal",
                                        "Netherlands",
                                        "Netherlands Antilles",
                                        "New Caledonia",
                                        "New Zealand",
                                        "Nicaragua",
                                        "Niger",
                                        "Nigeria",
                                        "Niue",
                                        "Norfolk Island",
                                        "Northern Mariana Islands",
                                        "Norway",
                                        "Oman",
                                        "Pakistan",
                                        "Palau",
                                        "Palestinian Territory",
                                        "Panama",
                                        "Papua New Guinea",
                                        "Paraguay",
                                        "Peru",
                                        "Philippines",
                                        "Pitcairn Islands",
                                        "Poland",
                                        "Portugal",
                                        "Puerto Rico",
                                        "Qatar",
                                        "Reunion",
                                        "Romania",
                                        "Russian Federation",
                                        "Rwanda",
                                        "Saint Barthelemy",
                                        "Saint Helena",
                                        "Saint Kitts and Nevis",
                                        "Saint Lucia",
                                        "Saint Martin",
                                        "Saint Pierre and Miquelon",
                                        "Saint Vincent and the Grenadines",
                                        "Samoa",
                                        "San Marino",
                                        "Sao Tome and Principe",
                                        "Saudi Arabia",
                                        "Senegal",
                                        "Serbia",
                                        "Seychelles",
                                        "Sierra Leone",
                                        "Singapore",
                                        "Slovakia (Slovak Republic)",
                                        "Slovenia",
                                        "Solomon Islands",
                                        "Somalia",
                                        "South Africa",
                                        "South Georgia and the South Sandwich Islands",
                                        "Spain",
                                        "Sri Lanka",
                                        "Sudan",
                                        "Suriname",
                                        "Svalbard & Jan Mayen Islands",
                                        "Swaziland",
                                        "Sweden",
                                        "Switzerland",
                                        "Syrian Arab Republic",
                                        "Taiwan",
                                        "Tajikistan",
                                        "Tanzania",
                                        "Thailand",
                                        "Timor-Leste",
                                        "Togo",
                                        "Tokelau",
                                        "Tonga",
                                        "Trinidad and Tobago",
                                        "Tunisia",
                                        "Turkey",
                                        "Turkmenistan",
                                        "Turks and Caicos Islands",
                                        "Tuvalu",
                                        "Uganda",
                                        "Ukraine",
                                        "United Arab Emirates",
                                        "United Kingdom",
                                        "United States Minor Outlying Islands",
                                        "United States Virgin Islands",
                                        "United States of America",
                                        "Uruguay",
                                        "Uzbekistan",
                                        "Vanuatu",
                                        "Venezuela",
                                        "Vietnam",
                                        "Wallis and Futuna",
                                        "Western Sahara",
                                        "Yemen",
                                        "Zambia",
                                        "Zimbabwe"};
const int pp_gen_ncountries = N(pp_gen_countries);

/* Faker-style first and last names, alphabetical (the real table is skewed towards A). */
const char *const pp_gen_first[] = {
    "Aaron",     "Abigail",   "Adam",      "Adrian",    "Alan",        "Albert",   "Alex",
    "Alexander", "Alexandra", "Alexis",    "Alicia",    "Alison",      "Allison",  "Alyssa",
    "Amanda",    "Amber",     "Amy",       "Andre",     "Andrea",      "Andrew",   "Angela",
    "Anna",      "Anne",      "Anthony",   "April",     "Ashley",      "Austin",   "Barbara",
    "Benjamin",  "Beth",      "Bethany",   "Betty",     "Bill",        "Bobby",    "Bradley",
    "Brandon",   "Brenda",    "Brett",     "Brian",     "Brittany",    "Brooke",   "Bryan",
    "Caitlyn",   "Calvin",    "Cameron",   "Carl",      "Carla",       "Carlos",   "Carol",
    "Caroline",  "Carrie",    "Casey",     "Catherine", "Chad",        "Charles",  "Chelsea",
    "Cheryl",    "Chris",     "Christina", "Christine", "Christopher", "Cindy",    "Claire",
    "Cody",      "Colleen",   "Connor",    "Corey",     "Courtney",    "Craig",    "Crystal",
    "Cynthia",   "Dale",      "Dana",      "Daniel",    "Danielle",    "David",    "Dawn",
    "Deborah",   "Denise",    "Dennis",    "Derek",     "Diana",       "Diane",    "Donald",
    "Donna",     "Dorothy",   "Douglas",   "Dustin",    "Dylan",       "Edward",   "Elizabeth",
    "Emily",     "Emma",      "Eric",      "Erica",     "Erin",        "Ethan",    "Evan",
    "Frank",     "Gabriel",   "Gary",      "George",    "Glenn",       "Grace",    "Gregory",
    "Hannah",    "Heather",   "Henry",     "Holly",     "Ian",         "Isaac",    "Jacob",
    "Jake",      "James",     "Jamie",     "Janet",     "Jason",       "Jeffrey",  "Jennifer",
    "Jeremy",    "Jesse",     "Jessica",   "Joan",      "Joel",        "John",     "Jonathan",
    "Joseph",    "Joshua",    "Joyce",     "Julia",     "Julie",       "Justin",   "Karen",
    "Katherine", "Kathleen",  "Kayla",     "Keith",     "Kelly",       "Kenneth",  "Kevin",
    "Kimberly",  "Kristen",   "Kyle",      "Laura",     "Lauren",      "Linda",    "Lisa",
    "Logan",     "Lori",      "Madison",   "Marcus",    "Margaret",    "Maria",    "Mark",
    "Mary",      "Matthew",   "Megan",     "Melissa",   "Michael",     "Michelle", "Monica",
    "Nancy",     "Natalie",   "Nathan",    "Nicholas",  "Nicole",      "Patricia", "Patrick",
    "Paul",      "Rachel",    "Rebecca",   "Richard",   "Robert",      "Ryan",     "Samantha",
    "Sandra",    "Sarah",     "Scott",     "Sean",      "Shannon",     "Sharon",   "Stephanie",
    "Stephen",   "Steven",    "Susan",     "Tammie",    "Taylor",      "Teresa",   "Thomas",
    "Timothy",   "Tina",      "Travis",    "Tyler",     "Valerie",     "Victoria", "William",
    "Zachary"};
const int pp_gen_nfirst = N(pp_gen_first);

const char *const pp_gen_last[] = {
    "Acosta",     "Adams",    "Aguilar",   "Alexander", "Ali",       "Allen",     "Alvarez",
    "Anderson",   "Andrews",  "Armstrong", "Arnold",    "Austin",    "Bailey",    "Baker",
    "Banks",      "Barnes",   "Barrett",   "Bates",     "Bell",      "Bennett",   "Berry",
    "Black",      "Blair",    "Bond",      "Boyd",      "Brady",     "Brooks",    "Brown",
    "Bryant",     "Buchanan", "Burke",     "Burns",     "Butler",    "Campbell",  "Carter",
    "Castro",     "Chambers", "Chen",      "Clark",     "Cole",      "Coleman",   "Collier",
    "Collins",    "Cook",     "Cooper",    "Cox",       "Crawford",  "Cruz",      "Cunningham",
    "Davis",      "Dawson",   "Day",       "Dean",      "Diaz",      "Dixon",     "Douglas",
    "Duncan",     "Edwards",  "Elliott",   "Ellis",     "Evans",     "Ferguson",  "Fischer",
    "Fisher",     "Fleming",  "Flores",    "Ford",      "Foster",    "Fox",       "Franklin",
    "Freeman",    "Garcia",   "Gardner",   "Garza",     "Gibson",    "Gomez",     "Gonzalez",
    "Gordon",     "Graham",   "Gray",      "Green",     "Griffin",   "Hall",      "Hamilton",
    "Hammond",    "Harris",   "Harrison",  "Hart",      "Hayes",     "Henderson", "Hernandez",
    "Hicks",      "Hill",     "Holmes",    "Howard",    "Hudson",    "Hughes",    "Hunt",
    "Jackson",    "James",    "Jenkins",   "Johnson",   "Jones",     "Jordan",    "Kelly",
    "Kennedy",    "Kim",      "King",      "Knight",    "Lawrence",  "Lee",       "Lewis",
    "Long",       "Lopez",    "Marshall",  "Martin",    "Martinez",  "Mason",     "Matthews",
    "Mcdonald",   "Meyer",    "Miller",    "Mitchell",  "Moore",     "Morales",   "Morgan",
    "Morris",     "Murphy",   "Murray",    "Myers",     "Nelson",    "Nguyen",    "Nichols",
    "Nunez",      "Ochoa",    "Olson",     "Ortiz",     "Owens",     "Palmer",    "Parker",
    "Patel",      "Perez",    "Perry",     "Peterson",  "Phillips",  "Porter",    "Powell",
    "Price",      "Ramirez",  "Ramos",     "Reed",      "Reyes",     "Reynolds",  "Rice",
    "Richardson", "Rivera",   "Roberts",   "Robinson",  "Rodriguez", "Rogers",    "Ross",
    "Russell",    "Sanchez",  "Sanders",   "Schmidt",   "Scott",     "Shaw",      "Simmons",
    "Simpson",    "Smith",    "Snyder",    "Spencer",   "Stevens",   "Stewart",   "Sullivan",
    "Taylor",     "Thomas",   "Thompson",  "Torres",    "Tucker",    "Turner",    "Vasquez",
    "Wagner",     "Walker",   "Wallace",   "Ward",      "Warren",    "Watson",    "Webb",
    "Wells",      "White",    "Williams",  "Wilson",    "Wood",      "Wright",    "Young"};
const int pp_gen_nlast = N(pp_gen_last);

/* Poster-name parts for the long tail of small accounts (some with accents). */
const char *const pp_gen_poster_words[] = {
    "Studio",    "Blog",       "Life",    "Home",   "Designs", "Co.",
    "Creations", "Collective", "Journal", "Daily",  "Society", "Shop",
    "Living",    "Lab",        "Diaries", "Market", "Atelier", "Corner"};
const int pp_gen_nposter_words = N(pp_gen_poster_words);
const char *const pp_gen_poster_intl[] = {"Zoë",     "José",      "Chloé", "Renée",
                                          "Mélanie", "Françoise", "Søren", "Małgorzata"};
const int pp_gen_nposter_intl = N(pp_gen_poster_intl);

/* Age weights 20..60: counts of ages in aicore_sample_user.jsonl (2019 users). */
const int pp_gen_age_weights[41] = {385, 224, 101, 112, 68, 76, 57, 50, 73, 38, 56, 39, 50, 39,
                                    42,  30,  32,  38,  35, 27, 26, 24, 30, 28, 27, 27, 20, 29,
                                    21,  29,  27,  18,  16, 19, 11, 20, 13, 14, 15, 20, 13};
