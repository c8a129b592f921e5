// Test keys generated once with Node (node:crypto) for this corpus Worker only; they protect
// nothing. ecSigOfMessage is an ECDSA P-256/SHA-256 signature (IEEE P1363) of "signed by node".
export const KEYS = {
  "ed25519Pkcs8": "MC4CAQAwBQYDK2VwBCIEINVKp8JaaUgXsJD/UJX5s4j64ucGlkiJMuzX9jYcfwbz",
  "ed25519Spki": "MCowBQYDK2VwAyEAI2YEjIcDzrvw1gA1cXV/0RsXrnLQT9qSB5CzDrUQi7I=",
  "rsaPkcs8": "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCWx5vvEWh215kL5GBtrYSjmGVDUcbPHwG9vlRjMH8CJ/qf2s3vqxJIxI562j/NWamwD8ZzwOu2xT3if51UHfWiXTSp07O2iSHVAfQcFMW+VpcWCIIW+OdJWJoIKxBjH6BEnfIccjp5qJHklOLuLwq0AC/4g8hDnCvKUnAAC1zJwL6dsCAEnDnQWBF5P8kmEDraK8fhBimiteGeqepZl2pIUV/BwDilNB81hqHEJNZVxyj/Oey2BNpjz6ItLB0bsCzYvSljQwiYDo3x0UQqvR/x4FZx8AncOdRWcfHZW41xAGvulT0eM66RoCMiKnQNIC/1cq6yEL5RSFqQZw7tF2+lAgMBAAECggEACw9+dVWSE7GyFOi+WB1T7wpFV2Be1J/CKXCWUSZkErzrCiHrXGrwruzYRNPQvVgX9gXaOXCL+f7TENPqrxp5g90ReWnBs6CwnicECLFPZiyE7cVXAadllABPYE0EaTkPMSli8spAVt9SQHHZib5iqxyeaD0Giksg/Tj55U7wEg6YKzC9vBcsAFQDLaMWQ4C8AjTvNkeQTAM4a4t90wGaJxMclZs6Q7ZsRfsut3ALbik+wNA9H8cjrt5ZlYWb2PLpJj5WOmi278B8mC7VlUGDvB7QI8tZRvv4lUqn93pbF9KZZCWDrnkW/DKjpPcAzV5PUNBpI/3xEuQaenH4Ifw++wKBgQDRTv7+V4upaBwd1EGyx0izZaZ9rDDx6Q7pAGb+5Cc+4l2EWq7wkJxStFYSEhk0js8L1vS1aPJIm7m0YMhHjv6WWpVgDumqGCZQylGX6cc6pSTjo4EKVJXwTST2so1XZzxKIJaIe0573FEOny6BBdvWb59pcdYV/QUUeq+xopnAXwKBgQC4ajNOM70/1veUBqOe5haNPGXnOsg/SFyVleEUYa+wP3ccMkeu9n8lEJFpqyK5EC3EmWaUnvvcQGA98ljYUMYH2qbQ7mDORgBzAfzgWqzWRqi+anUC+S7RF4hJtwr+CUAB0Jv2X8/0GO7rNexi1XjfA6St1t6O1MyWEF4PTv8+ewKBgAgx9Z3zw44ge2lXlDLxxpDvm/MzuL7gBytsTpwQRtEZf9vcyRi2MMi0MuKGPuJl7QljozUvJL1fC4haeb0DhkhQx6R5MQDt7SIgqc0u5BQRvz4CetzyruQ3wQi/uPUBH8UvPXWejlYfLDVMWj/HAPKGcFFqmZ1GyNoia5qi6S41AoGAIQSyxu+wlLuSfGhr50lfBE6qGCqIK/xyxz2cnR+Ya0ARvXSrLQJpZWOABaFkiCoDZ83ndfi5M4g7MxwvGBvuOP3HHGVx47zY276hXjId/AeOsvkwliWzYjCKcFhbmXxif3CwW/5vp07HiEmRV2jNSXDHjXCJTJ2BO+UWUjtcq/0CgYArkE4mEdRBh6/zF7b6HlrHDqwTWUsyYuBECh5hPI2iBC76H6Ya4dsU0sL6bsTAf+9r4LEw4UyD8sV6ZlrecIUOjW0gmzHk0s2qdcFsf7d5LP/Gr8nIOWNFonJqFg9lM4epIkPPp+03BCbHvI4vMwk8F31pNK7s69NCZ1D3vidt0Q==",
  "rsaPublicJwk": {
    "kty": "RSA",
    "n": "lseb7xFodteZC-Rgba2Eo5hlQ1HGzx8Bvb5UYzB_Aif6n9rN76sSSMSOeto_zVmpsA_Gc8DrtsU94n-dVB31ol00qdOztokh1QH0HBTFvlaXFgiCFvjnSViaCCsQYx-gRJ3yHHI6eaiR5JTi7i8KtAAv-IPIQ5wrylJwAAtcycC-nbAgBJw50FgReT_JJhA62ivH4QYporXhnqnqWZdqSFFfwcA4pTQfNYahxCTWVcco_znstgTaY8-iLSwdG7As2L0pY0MImA6N8dFEKr0f8eBWcfAJ3DnUVnHx2VuNcQBr7pU9HjOukaAjIip0DSAv9XKushC-UUhakGcO7RdvpQ",
    "e": "AQAB"
  },
  "ecPrivJwk": {
    "kty": "EC",
    "x": "T880P4OTxhGITnfwFrFGeKicRzqBAGDgqTAtrJ386lM",
    "y": "c4_P5PG--oJf_Ez22S7_XIW0Haj0FRE4Zwy6by-Ow6g",
    "crv": "P-256",
    "d": "gYe3AvJVvVYAmFSW2bc8mhgysSGLSoSLkrsYc0p4Y8U"
  },
  "ecPubJwk": {
    "kty": "EC",
    "x": "T880P4OTxhGITnfwFrFGeKicRzqBAGDgqTAtrJ386lM",
    "y": "c4_P5PG--oJf_Ez22S7_XIW0Haj0FRE4Zwy6by-Ow6g",
    "crv": "P-256"
  },
  "ec2PrivJwk": {
    "kty": "EC",
    "x": "HCNbc8J2Ewu4JBs5eI3PdoPp4P9zk2xBJv-Nnvpc6a4",
    "y": "rO6XXEcdkAKNYyFTk5Y6l4cXeLAj6BQbusqkLztt7c8",
    "crv": "P-256",
    "d": "S2OXlo_L_zc6QyqTQTSRy0snSXa3F5dYFtxrSBXpMOQ"
  },
  "ec2PubJwk": {
    "kty": "EC",
    "x": "HCNbc8J2Ewu4JBs5eI3PdoPp4P9zk2xBJv-Nnvpc6a4",
    "y": "rO6XXEcdkAKNYyFTk5Y6l4cXeLAj6BQbusqkLztt7c8",
    "crv": "P-256"
  },
  "ecSigOfMessage": "fR5S28nT1yUDBmcGm5hbtmz6TxZZKT5dVe00OX0IRhJzsByf4d2zvMFNIGGBZ6dzdPq9JgA331N/+w6/i0X8Mg=="
};
